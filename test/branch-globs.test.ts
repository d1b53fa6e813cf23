// `branch: release/*`: every matching branch is a target of its own, read from real repositories.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { supervise } from './helpers/supervised.js';
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

  test('two branches that would share a checkout folder: the first by name is followed, the other reported', async (t) => {
    const remote = await releases(t);
    remote.git('branch', '--quiet', 'release-1.0', 'main');
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: '**', pipeline: [STEP] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /site@release\/1\.0 ✖ check failed: branch 'release\/1\.0' would share the checkout of 'release-1\.0'/);
    assert.deepEqual(
      (await project.record()).map((l) => l.split(' ')[0]),
      ['site@main', 'site@release-1.0', 'site@release/2.0'],
    );
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
