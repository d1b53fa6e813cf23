// `branch: release/*`: every matching branch is a target of its own, read from real repositories.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { supervise } from './helpers/supervised.js';
import { targetFolders, type FolderClaim } from '../src/config/targets.js';
import { GONE_GRACE_MS } from '../src/cycle/targets.js';
import type { TriggerResult } from '../src/supervisor/supervisor.js';
import { tempDir } from './helpers/temp.js';

const STEP = 'echo "$GITWATCH_TARGET $GITWATCH_REPO $GITWATCH_BRANCH $GITWATCH_COMMIT $(cat which.txt)" >> "$RECORD"';

async function releases(t: import('node:test').TestContext): Promise<TestRepo> {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  for (const branch of ['release/2.0', 'release/1.0']) {
    remote.git('checkout', '--quiet', '-b', branch, 'main');
    await remote.commit({ 'which.txt': `${branch}\n` });
  }
  remote.git('checkout', '--quiet', 'main');
  await remote.commit({ 'which.txt': 'main\n' });
  return remote;
}

describe('target folders', () => {
  const ran: FolderClaim = { commit: 'a'.repeat(40) };
  const hashed = (branch: string): string => `${branch.replaceAll('/', '-')}~${createHash('sha256').update(branch).digest('hex').slice(0, 8)}`;
  const cases: [string, string[], Record<string, FolderClaim>, Record<string, string>][] = [
    ['no collision: the plain names', ['release/1.0', 'main', 'fix-a'], {}, { 'release/1.0': 'release-1.0', main: 'main', 'fix-a': 'fix-a' }],
    ['both new: the first by name keeps the plain name', ['feat/x', 'feat-x'], {}, { 'feat-x': 'feat-x', 'feat/x': hashed('feat/x') }],
    ['the one that ran keeps it', ['feat/x', 'feat-x'], { 's@feat/x': ran }, { 'feat/x': 'feat-x', 'feat-x': hashed('feat-x') }],
    [
      'a recorded folder is kept, whoever else comes',
      ['feat/x', 'feat-x'],
      { 's@feat/x': ran, 's@feat-x': { ...ran, folder: hashed('feat-x') } },
      { 'feat/x': 'feat-x', 'feat-x': hashed('feat-x') },
    ],
    [
      'a lock from before: both ran, the first by name keeps it',
      ['feat/x', 'feat-x'],
      { 's@feat/x': ran, 's@feat-x': ran },
      { 'feat-x': 'feat-x', 'feat/x': hashed('feat/x') },
    ],
    [
      'a paused entry that never ran claims nothing',
      ['feat/x', 'feat-x'],
      { 's@feat/x': ran, 's@feat-x': {} },
      { 'feat/x': 'feat-x', 'feat-x': hashed('feat-x') },
    ],
    ['a gone target in the lock keeps its folder', ['feat/x'], { 's@feat-x': ran }, { 'feat/x': hashed('feat/x'), 'feat-x': 'feat-x' }],
    ['a recorded folder that is not its own is ignored', ['feat/x'], { 's@feat/x': { folder: '../../etc' } }, { 'feat/x': 'feat-x' }],
    ["another repo's targets do not count", ['feat/x'], { 'site@feat-x': ran }, { 'feat/x': 'feat-x' }],
    ['three at once', ['a/b-c', 'a-b/c', 'a-b-c'], {}, { 'a-b-c': 'a-b-c', 'a-b/c': hashed('a-b/c'), 'a/b-c': hashed('a/b-c') }],
  ];
  for (const [what, branches, entries, expected] of cases) {
    test(what, () => assert.deepEqual(Object.fromEntries(targetFolders('s', branches, entries)), expected));
  }
});

describe('branch globs with once', () => {
  test('each matching branch runs as its own target, in branch order; a push runs only its branch; a deleted one stops as gone', async (t) => {
    const remote = await releases(t);
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: 'release/*', pipeline: [STEP] } } });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const one = remote.head('release/1.0');
    const two = remote.head('release/2.0');
    assert.deepEqual(await project.record(), [`site@release/1.0 site release/1.0 ${one} release/1.0`, `site@release/2.0 site release/2.0 ${two} release/2.0`]);
    const state = await project.state();
    assert.equal(state.repos['site@release/1.0']?.commit, one);
    assert.equal(state.repos['site@release/1.0']?.branch, 'release/1.0');
    assert.equal(state.repos['site@release/2.0']?.commit, two);
    assert.equal(state.repos['site'], undefined);
    assert.ok(existsSync(path.join(project.dir, '.gitwatch', 'site@release-1.0', 'which.txt')));
    assert.ok(existsSync(path.join(project.dir, '.gitwatch', 'logs', 'site@release-2.0')));

    remote.git('checkout', '--quiet', 'release/2.0');
    const newer = await remote.commit({ 'which.txt': 'release/2.0 again\n' });
    remote.git('checkout', '--quiet', 'main');
    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual((await project.record()).slice(2), [`site@release/2.0 site release/2.0 ${newer} release/2.0 again`]);
    assert.match(second.stdout, /site@release\/1\.0 ✔ up to date/);

    remote.git('branch', '--quiet', '-D', 'release/1.0');
    remote.git('branch', '--quiet', 'release/3.0', 'main');
    const plan = await project.cli('plan', '--json');
    assert.equal(plan.code, 0, plan.stderr);
    const planned = (JSON.parse(plan.stdout) as { repos: { name: string; decision: string }[] }).repos.map((r) => `${r.name} ${r.decision}`);
    assert.deepEqual(planned, ['site@release/2.0 up to date', 'site@release/3.0 run']);
    const third = await project.cli('once');
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.match(third.stdout, /site@release\/1\.0 · branch 'release\/1\.0' is gone from the remote; stopped/);
    assert.deepEqual((await project.record()).slice(3), [`site@release/3.0 site release/3.0 ${remote.head('main')} main`]);
    const after = await project.state();
    assert.equal(after.repos['site@release/1.0']?.commit, one, 'the gone entry keeps its commit');

    const status = await project.cli('status');
    assert.equal(status.code, 0, status.stderr);
    const rows = status.stdout.split('\n').map((l) => l.split(/\s{2,}/)[0]);
    assert.deepEqual(rows.slice(1, 5), ['site', 'site@release/1.0 (gone)', 'site@release/2.0', 'site@release/3.0']);

    // Targets by name: once, logs; a name outside the pattern is unknown.
    const named = await project.cli('once', 'site@release/2.0');
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /site@release\/2\.0 ✔ up to date/);
    assert.doesNotMatch(named.stdout, /release\/3\.0/);
    const logs = await project.cli('logs', 'site@release/2.0');
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, new RegExp(`site@release/2\\.0 run of ${newer.slice(0, 12)} .*: succeeded`));
    assert.equal((await project.cli('once', 'site@main')).code, 2);
  });

  test('branches that differ only by / and -: both are followed in folders of their own; the one there first keeps its folder', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    remote.git('checkout', '--quiet', '-b', 'feat/x', 'main');
    await remote.commit({ 'which.txt': 'feat/x\n' });
    remote.git('checkout', '--quiet', 'main');
    const step = 'echo "$GITWATCH_TARGET $GITWATCH_CHECKOUT $(cat which.txt)" >> "$RECORD"';
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: '**', pipeline: [step] } } });
    const work = path.join(project.dir, '.gitwatch');
    const feats = async (): Promise<string[]> => (await project.record()).filter((l) => l.startsWith('site@feat'));
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await feats(), [`site@feat/x ${work}/site@feat-x feat/x`], first.stdout);

    // feat-x sorts before feat/x and would map to the same folder: it gets a folder of its own.
    remote.git('checkout', '--quiet', '-b', 'feat-x', 'main');
    await remote.commit({ 'which.txt': 'feat-x\n' });
    remote.git('checkout', '--quiet', 'main');
    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.doesNotMatch(second.stdout + second.stderr, /gone|share|✖/);
    const [, newcomer] = await feats();
    const hashed = /^site@feat-x (\S+) feat-x$/.exec(newcomer ?? '')?.[1] ?? '';
    assert.match(hashed, new RegExp(`^${work}/site@feat-x~[0-9a-f]{8}$`), newcomer);
    assert.equal(readFileSync(path.join(work, 'site@feat-x', 'which.txt'), 'utf8'), 'feat/x\n', 'the incumbent keeps its folder');
    let state = await project.state();
    assert.equal((state.repos['site@feat/x'] as { gone?: string } | undefined)?.gone, undefined, 'a collision is not a disappearance');
    assert.equal(state.repos['site@feat-x']?.commit, remote.head('feat-x'));

    // Each keeps its folder, its store and its run logs.
    remote.git('checkout', '--quiet', 'feat/x');
    const pushed = await remote.commit({ 'which.txt': 'feat/x again\n' });
    remote.git('checkout', '--quiet', 'main');
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual((await feats()).slice(2), [`site@feat/x ${work}/site@feat-x feat/x again`]);
    const logs = await project.cli('logs', 'site@feat/x');
    assert.match(logs.stdout, new RegExp(`^==> site@feat/x run of ${pushed.slice(0, 12)} .*: succeeded\\n`));
    assert.match((await project.cli('logs', 'site@feat-x')).stdout, new RegExp(`run of ${remote.head('feat-x').slice(0, 12)} `));

    // feat-x leaves; after the grace period only its own folder and store go.
    remote.git('branch', '--quiet', '-D', 'feat-x');
    assert.equal((await project.cli('once')).code, 0);
    state = await project.state();
    const gone = state.repos['site@feat-x'] as { gone?: string } | undefined;
    assert.ok(gone?.gone);
    gone.gone = new Date(Date.now() - 25 * 60 * 60_000).toISOString();
    await writeFile(project.statePath, JSON.stringify(state));
    assert.equal((await project.cli('once')).code, 0);
    assert.equal(existsSync(hashed), false, 'the gone target is cleaned up');
    assert.equal(readFileSync(path.join(work, 'site@feat-x', 'which.txt'), 'utf8'), 'feat/x again\n', 'the live target keeps its files');
    assert.ok(existsSync(path.join(work, '.git-store', 'site@feat-x.git')), 'and its store');
  });

  test('two new branches that would share a folder: the first by name gets the plain one', async (t) => {
    const remote = await releases(t);
    remote.git('branch', '--quiet', 'release-1.0', 'main');
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: '**', pipeline: [STEP] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(
      (await project.record()).map((l) => l.split(' ')[0]),
      ['site@main', 'site@release-1.0', 'site@release/1.0', 'site@release/2.0'],
    );
    const folders = readdirSync(path.join(project.dir, '.gitwatch')).filter((f) => f.startsWith('site@release'));
    assert.deepEqual(folders.map((f) => f.replace(/~[0-9a-f]{8}$/, '~HASH')).sort(), ['site@release-1.0', 'site@release-1.0~HASH', 'site@release-2.0']);
    assert.equal(readFileSync(path.join(project.dir, '.gitwatch', 'site@release-1.0', 'which.txt'), 'utf8'), 'main\n');
  });
});

describe('branch globs in the daemon', () => {
  test('one worker per branch: a push runs only its target, a new branch is picked up, a deleted one stops; trigger by target name', async (t) => {
    const dir = await tempDir(t);
    const remote = await releases(t);
    const s = await supervise(t, dir, { site: { url: remote.url, branch: 'release/*', interval: '1m', pipeline: ['true'] } });
    await s.settled();
    const runs = (): string[][] => s.reporter.of('run-finished').map((e) => [e.repo, e.commit]);
    assert.deepEqual(runs().sort(), [
      ['site@release/1.0', remote.head('release/1.0')],
      ['site@release/2.0', remote.head('release/2.0')],
    ]);
    assert.equal(s.worker('site@release/1.0').phase, 'idle');
    assert.equal(s.worker('site').checks, 1);

    remote.git('checkout', '--quiet', 'release/1.0');
    const pushed = await remote.commit({ 'which.txt': 'release/1.0 again\n' });
    remote.git('checkout', '--quiet', 'main');
    remote.git('branch', '--quiet', 'release/3.0', 'main');
    await s.nextCheck('site');
    // Each runs as soon as it is fetched and the queue is free (as repos do): their order here is not fixed.
    assert.deepEqual(runs().slice(2).sort(), [
      ['site@release/1.0', pushed],
      ['site@release/3.0', remote.head('main')],
    ]);

    remote.git('branch', '--quiet', '-D', 'release/2.0');
    await s.nextCheck('site');
    assert.deepEqual(
      s.reporter.of('target-gone').map((e) => e.repo),
      ['site@release/2.0'],
    );
    assert.equal(
      s.supervisor.snapshot().some((w) => w.repo === 'site@release/2.0'),
      false,
    );
    assert.ok(s.supervisor.snapshot().find((w) => w.repo === 'site')?.checks === 3);
    assert.equal(runs().length, 4, 'nothing else ran');

    // The gone target's checkout and store stay for the grace period, then go; its lock entry stays.
    const checkout = path.join(dir, '.gitwatch', 'site@release-2.0');
    const store = path.join(dir, '.gitwatch', '.git-store', 'site@release-2.0.git');
    assert.ok(existsSync(checkout) && existsSync(store));
    const checkAfter = async (ms: number): Promise<void> => {
      const checks = s.worker('site').checks;
      s.clock.advance(ms);
      await s.supervisor.until((ws) => (ws.find((x) => x.repo === 'site')?.checks ?? 0) > checks);
      await s.settled();
    };
    // The listing's interval is exactly 1m here (no jitter): the first check lands a minute short of the grace period.
    await checkAfter(GONE_GRACE_MS - 60_000);
    assert.ok(existsSync(checkout), 'removed before the grace period ended');
    await checkAfter(60_000);
    assert.equal(existsSync(checkout) || existsSync(store), false);
    assert.ok(s.supervisor.deps.state.entry('site@release/2.0')?.gone);

    const result = await new Promise<TriggerResult>((resolve) => assert.ok(s.supervisor.trigger('site@release/3.0', resolve)));
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(runs().at(-1), ['site@release/3.0', remote.head('main')]);
  });
});
