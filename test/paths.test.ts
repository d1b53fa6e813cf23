// `paths` and what it stands on: the files changed between the lock's commit and a new head, read from
// real repositories.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { GitClient } from '../src/git/client.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { tempDir, testEnv, testProcesses } from './helpers/temp.js';

const call = { timeoutMs: 30_000 };

describe('changes between two commits', () => {
  test('lists changed files, a rename as both paths, and whether the head descends', async (t) => {
    const dir = await tempDir(t);
    const repo = await TestRepo.create(path.join(dir, 'origin'));
    const base = await repo.commit({ 'web/a.txt': 'a\n', 'docs/old.md': 'old\n' }, 'base');
    repo.git('mv', 'docs/old.md', 'web/new.md');
    const head = await repo.commit({ 'web/a.txt': 'a2\n' }, 'rename and edit');
    const git = new GitClient(testEnv(dir), testProcesses());
    const store = path.join(dir, 'store');
    await git.ensureStore(store, call);
    await git.fetch(store, { url: repo.url }, head, call);
    const changes = await git.changes(store, base, head, call);
    assert.equal(changes.descendant, true);
    assert.deepEqual([...changes.files].sort(), ['docs/old.md', 'web/a.txt', 'web/new.md']);
  });

  test('a force push is not a descendant, and a commit the store never saw is not one either', async (t) => {
    const dir = await tempDir(t);
    const repo = await TestRepo.create(path.join(dir, 'origin'));
    const old = await repo.commit({ 'a.txt': '1\n' });
    const git = new GitClient(testEnv(dir), testProcesses());
    const store = path.join(dir, 'store');
    await git.ensureStore(store, call);
    await git.fetch(store, { url: repo.url }, old, call);
    const rewritten = await repo.forcePush();
    await git.fetch(store, { url: repo.url }, rewritten, call);
    assert.equal((await git.changes(store, old, rewritten, call)).descendant, false);
    const unknown = 'f'.repeat(40);
    assert.deepEqual(await git.changes(store, unknown, rewritten, call), { descendant: false, files: [] });
  });
});

describe('changes in a shallow store', () => {
  test('fetches the previous commit and deepens the head until it reaches it; a force push is still not a descendant', async (t) => {
    const dir = await tempDir(t);
    const repo = await TestRepo.create(path.join(dir, 'origin'));
    const base = await repo.commit({ 'web/a.txt': 'a\n', 'docs/b.md': 'b\n' }, 'base');
    // 100 commits between: beyond the first deepening step.
    for (let i = 0; i < 100; i++) await repo.commit({ 'docs/log.md': `${i}\n` });
    const head = await repo.commit({ 'web/a.txt': 'a2\n' }, 'edit');
    const git = new GitClient(testEnv(dir), testProcesses());
    const store = path.join(dir, 'store');
    await git.ensureStore(store, call);
    await git.fetch(store, { url: repo.url }, head, call, 1);
    assert.equal(repo.git('--git-dir', store, 'rev-list', '--count', head), '1', 'the store starts with the head alone');

    // Without the remote, the shallow store cannot tell: the old behaviour, a commit it does not hold.
    assert.deepEqual(await git.changes(store, base, head, call), { descendant: false, files: [] });
    const changes = await git.changes(store, base, head, call, { url: repo.url });
    assert.equal(changes.descendant, true);
    assert.deepEqual([...changes.files].sort(), ['docs/log.md', 'web/a.txt']);

    const rewritten = await repo.forcePush();
    await git.fetch(store, { url: repo.url }, rewritten, call, 1);
    assert.equal((await git.changes(store, head, rewritten, call, { url: repo.url })).descendant, false);
    // A previous commit the remote no longer has: taken as a force push.
    assert.deepEqual(await git.changes(store, 'f'.repeat(40), rewritten, call, { url: repo.url }), { descendant: false, files: [] });
  });

  test('a head whose whole history is held ends the search: an unrelated root is not a descendant', async (t) => {
    const dir = await tempDir(t);
    const left = await TestRepo.create(path.join(dir, 'left'));
    const other = await left.commit({ 'x.txt': '1\n' });
    // An unrelated history on another branch of the same remote.
    left.git('checkout', '--quiet', '--orphan', 'other');
    const unrelated = await left.commit({ 'y.txt': '1\n' }, 'unrelated root');
    const git = new GitClient(testEnv(dir), testProcesses());
    const store = path.join(dir, 'store');
    await git.ensureStore(store, call);
    await git.fetch(store, { url: left.url }, unrelated, call, 1);
    const changes = await git.changes(store, other, unrelated, call, { url: left.url });
    assert.equal(changes.descendant, false);
    // The orphan branch kept the index: only y.txt is new.
    assert.deepEqual(changes.files, ['y.txt']);
    // Only the previous commit was cut short; the head's history was complete and never deepened.
    assert.deepEqual((await readFile(path.join(store, 'shallow'), 'utf8')).trim().split('\n'), [other]);
  });
});
