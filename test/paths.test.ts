// `paths` and what it stands on: the files changed between the lock's commit and a new head, read from
// real repositories.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { GitClient } from '../src/git/client.js';
import { pathFilter } from '../src/rules/paths.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
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
    await git.fetch(store, { url: repo.url }, head, call, undefined, 1);
    assert.equal(repo.git('--git-dir', store, 'rev-list', '--count', head), '1', 'the store starts with the head alone');

    // Without the remote, the shallow store cannot tell: the old behaviour, a commit it does not hold.
    assert.deepEqual(await git.changes(store, base, head, call), { descendant: false, files: [] });
    const changes = await git.changes(store, base, head, call, { url: repo.url });
    assert.equal(changes.descendant, true);
    assert.deepEqual([...changes.files].sort(), ['docs/log.md', 'web/a.txt']);

    const rewritten = await repo.forcePush();
    await git.fetch(store, { url: repo.url }, rewritten, call, undefined, 1);
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
    await git.fetch(store, { url: left.url }, unrelated, call, undefined, 1);
    const changes = await git.changes(store, other, unrelated, call, { url: left.url });
    assert.equal(changes.descendant, false);
    // The orphan branch kept the index: only y.txt is new.
    assert.deepEqual(changes.files, ['y.txt']);
    // Only the previous commit was cut short; the head's history was complete and never deepened.
    assert.deepEqual((await readFile(path.join(store, 'shallow'), 'utf8')).trim().split('\n'), [other]);
  });
});

describe('paths patterns', () => {
  const cases: readonly [string[], string, boolean][] = [
    [['web/**'], 'web/a.txt', true],
    [['web/**'], 'web/deep/er/a.txt', true],
    [['web/**'], 'api/web/a.txt', false],
    [['web'], 'web/deep/a.txt', true],
    [['web/'], 'web/a.txt', true],
    [['/web/*.css'], 'web/site.css', true],
    [['web/*.css'], 'web/x/site.css', false],
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/README.md', false],
    [['**/*.md'], 'docs/README.md', true],
    [['web/**', '!web/docs/**'], 'web/docs/a.md', false],
    [['web/**', '!web/docs/**'], 'web/index.html', true],
    [['web/**', '!web/docs/**', 'web/docs/api/**'], 'web/docs/api/x.md', true],
    [['!docs/**'], 'src/main.ts', true],
    [['!docs/**'], 'docs/index.md', false],
    [['!docs/**', '!*.md'], 'README.md', false],
    [['.github/**'], '.github/workflows/ci.yml', true],
    [['**'], 'any/where.txt', true],
  ];
  for (const [patterns, file, expected] of cases) {
    test(`${JSON.stringify(patterns)} ${expected ? 'matches' : 'does not match'} ${file}`, () => {
      assert.equal(pathFilter(patterns).firstMatch([file]), expected ? file : undefined);
    });
  }
});

describe('paths and skip markers in a cycle', () => {
  test('a change outside paths is skipped and recorded, inside runs, a rename into the filter runs, a force push runs', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    await remote.commit({ 'web/docs/old.md': 'old\n', 'api/main.go': 'package main\n' }, 'layout');
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, paths: ['web/**', '!web/docs/**'], pipeline: [RECORD_STEP] } } });
    const runs = async (): Promise<number> => (await project.record()).length;

    // First run: nothing to compare against, so it runs.
    assert.equal((await project.cli('once')).code, 0);
    assert.equal(await runs(), 1);

    const outside = await remote.commit({ 'api/main.go': 'package main // 2\n' }, 'api only');
    const skipped = await project.cli('once');
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /^site ↷ skipped [0-9a-f]{12}: no changed file matches paths \(1 file changed\)$/m);
    assert.equal(await runs(), 1);
    const entry = (await project.state()).repos['site'];
    assert.equal(entry?.commit, outside);
    assert.deepEqual(
      { ...entry?.lastRun, startedAt: undefined, finishedAt: undefined },
      {
        commit: outside,
        status: 'skipped',
        reason: 'no changed file matches paths (1 file changed)',
        startedAt: undefined,
        finishedAt: undefined,
      },
    );

    // Only excluded files: still skipped.
    await remote.commit({ 'web/docs/old.md': 'edited\n' }, 'docs only');
    assert.equal((await project.cli('once')).code, 0);
    assert.equal(await runs(), 1);

    const inside = await remote.commit({ 'web/index.html': '<h1>hi</h1>\n' }, 'web');
    assert.equal((await project.cli('once')).code, 0);
    assert.equal(await runs(), 2);
    assert.equal((await project.state()).repos['site']?.commit, inside);

    // A rename from an excluded folder into the filter: the new path counts.
    remote.git('mv', 'web/docs/old.md', 'web/moved.md');
    await remote.commit({}, 'rename');
    assert.equal((await project.cli('once')).code, 0);
    assert.equal(await runs(), 3);

    // A force push whose only change is outside paths still runs: its head does not descend from the lock's
    // commit. The lock first moves to a skipped commit, so that nothing between it and the new head is inside.
    await remote.commit({ 'api/main.go': 'package main // 3\n' }, 'api again');
    assert.equal((await project.cli('once')).code, 0);
    assert.equal(await runs(), 3);
    remote.git('reset', '--quiet', '--hard', 'HEAD~1');
    const rewritten = await remote.commit({ 'api/other.go': 'package main\n' }, 'rewritten');
    const forced = await project.cli('once');
    assert.equal(forced.code, 0);
    assert.doesNotMatch(forced.stdout, /skipped/, forced.stdout);
    assert.equal(await runs(), 4);
    assert.equal((await project.state()).repos['site']?.commit, rewritten);
  });

  test('[skip ci] in the head commit skips it; skip_markers: [] runs it; a trigger runs it anyway', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const repo = { url: remote.url, pipeline: [RECORD_STEP] };
    const project = await makeProject(t, { version: 1, repos: { site: repo } });
    assert.equal((await project.cli('once')).code, 0);
    const marked = await remote.commit({ 'a.txt': '1\n' }, 'fix typo\n\nOnly words. [skip ci]');
    const skipped = await project.cli('once');
    assert.match(skipped.stdout, /site ↷ skipped [0-9a-f]{12}: the head commit's message has the skip marker '\[skip ci\]'/);
    assert.equal((await project.record()).length, 1);
    assert.equal((await project.state()).repos['site']?.commit, marked);
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'skipped');

    const again = await remote.commit({ 'a.txt': '2\n' }, 'more [gitwatch skip]');
    await project.writeConfig({ version: 1, repos: { site: { ...repo, skip_markers: [] } } });
    assert.equal((await project.cli('once')).code, 0);
    assert.equal((await project.record()).length, 2);
    assert.equal((await project.state()).repos['site']?.commit, again);

    await project.writeConfig({ version: 1, repos: { site: repo } });
    await remote.commit({ 'a.txt': '3\n' }, 'wip [ci skip]');
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    assert.equal((await project.record()).length, 3);
  });

  test('enabled: false is not checked, shows as disabled, and a trigger still runs it', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: { url: remote.url, enabled: false, pipeline: [RECORD_STEP] },
        gone: { url: path.join(root, 'missing'), enabled: false, pipeline: ['true'] },
      },
    });
    const once = await project.cli('once');
    assert.equal(once.code, 0, once.stdout + once.stderr);
    assert.match(once.stdout, /^site · disabled \(enabled: false\)$/m);
    assert.doesNotMatch(once.stdout + once.stderr, /check failed/);
    assert.deepEqual(await project.record(), []);
    const status = await project.cli('status', '--json');
    const rows = (JSON.parse(status.stdout) as { repos: { name: string; enabled: boolean }[] }).repos;
    assert.deepEqual(
      rows.map((r) => [r.name, r.enabled]),
      [
        ['site', false],
        ['gone', false],
      ],
    );
    assert.match((await project.cli('status')).stdout, /\nsite +\(default\) +- +never +disabled\n/);
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    assert.equal((await project.record()).length, 1);
  });
});
