// `paths` and what it stands on: the files changed between the lock's commit and a new head, read from
// real repositories.

import assert from 'node:assert/strict';
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
