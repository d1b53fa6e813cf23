// `retry`: a failed commit tried again with growing waits; a newer commit replaces the retries. In the
// daemon on a fake clock (the waits are exact), in `once` on real time.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { StateKeeper } from '../src/state/state-keeper.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { supervise } from './helpers/supervised.js';
import { tempDir } from './helpers/temp.js';

/** Fails until its `succeedAt`-th try; each try appends "try N <commit>" to $RECORD. */
const flaky = (succeedAt: number): string =>
  `n=$(cat "$RECORD.n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$RECORD.n"; echo "try $n $GITWATCH_COMMIT $(date +%s%N)" >> "$RECORD"; [ $n -ge ${succeedAt} ]`;

async function tries(dir: string): Promise<string[]> {
  return (await readFile(path.join(dir, 'record.txt'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
}

describe('retry in the daemon', () => {
  test('fails twice, then succeeds: waits 10s, then 20s, on the worker, while other repos go on', async (t) => {
    const dir = await tempDir(t);
    const site = await TestRepo.create(path.join(dir, 'site'));
    const other = await TestRepo.create(path.join(dir, 'other'));
    const s = await supervise(t, dir, {
      site: { url: site.url, interval: '1h', retry: { attempts: 3, backoff: '10s' }, pipeline: [flaky(3)] },
      other: { url: other.url, interval: '4s', pipeline: ['echo other >> "$RECORD"'] },
    });
    await s.settled();
    assert.equal((await tries(dir)).filter((l) => l.startsWith('try')).length, 1);
    assert.equal(s.delay('site'), 10_000);
    const state = async () => (await StateKeeper.open(s.config.statePath, process.pid)).entry('site');
    assert.deepEqual([(await state())?.lastRun?.status, (await state())?.lastRun?.attempt], ['failed', 1]);

    // Another repo's new commit runs while site waits for its retry.
    await other.commit();
    await s.nextCheck('other');
    assert.equal((await tries(dir)).filter((l) => l === 'other').length, 2);
    assert.equal(s.delay('site'), 6_000);

    await s.nextCheck('site');
    assert.deepEqual([(await state())?.lastRun?.status, (await state())?.lastRun?.attempt], ['failed', 2]);
    assert.equal(s.delay('site'), 20_000);
    await s.nextCheck('site');
    const done = await state();
    assert.deepEqual([done?.lastRun?.status, done?.lastRun?.attempt, done?.commit], ['succeeded', 3, site.head()]);
    assert.equal(s.delay('site'), 3_600_000);
  });

  test('a newer commit replaces the retries of the failed one; tries run out and the commit waits', async (t) => {
    const dir = await tempDir(t);
    const site = await TestRepo.create(path.join(dir, 'site'));
    const s = await supervise(t, dir, { site: { url: site.url, interval: '1h', retry: { attempts: 1, backoff: '10s' }, pipeline: [flaky(100)] } });
    await s.settled();
    const first = site.head();
    const newer = await site.commit();
    await s.nextCheck('site');
    const state = async () => (await StateKeeper.open(s.config.statePath, process.pid)).entry('site');
    assert.deepEqual([(await state())?.lastRun?.commit, (await state())?.lastRun?.attempt], [newer, 1]);
    assert.deepEqual(
      (await tries(dir)).map((l) => l.split(' ')[2]),
      [first, newer],
    );
    await s.nextCheck('site');
    assert.deepEqual([(await state())?.lastRun?.commit, (await state())?.lastRun?.attempt], [newer, 2]);
    // No tries left: the next check is the interval's, and it runs nothing.
    assert.equal(s.delay('site'), 3_600_000);
    await s.nextCheck('site');
    assert.equal((await tries(dir)).length, 3);
  });
});

describe('retry in once', () => {
  test('waits and tries again inline, each wait longer, and exits 0 when a try succeeds', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, retry: { attempts: 3, backoff: '1s' }, pipeline: [flaky(3)] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^site · [0-9a-f]{12} failed; try 2 of 4 in 1s$/m);
    assert.match(result.stdout, /^site · [0-9a-f]{12} failed; try 3 of 4 in 2s$/m);
    assert.match(result.stdout, /^site ▶ [0-9a-f]{12} on main \(failed before, try 3\)$/m);
    const times = (await project.record()).map((l) => BigInt(l.split(' ')[3] ?? '0') / 1_000_000n);
    assert.equal(times.length, 3);
    const [a, b, c] = times as [bigint, bigint, bigint];
    assert.ok(b - a >= 1000n && c - b >= 2000n, `gaps ${b - a} ms, ${c - b} ms`);
    const lastRun = (await project.state()).repos['site']?.lastRun as { status: string; attempt?: number } | undefined;
    assert.deepEqual([lastRun?.status, lastRun?.attempt], ['succeeded', 3]);
  });

  test('a skip marker does not hold back the retry of a commit a trigger ran', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, retry: { attempts: 2, backoff: '1s' }, pipeline: [flaky(2)] } } });
    const marked = await remote.commit({ 'notes.md': 'wip\n' }, 'wip [skip ci]');
    // A trigger runs a marked head on purpose; its retries are that same run's, not a new commit to skip.
    const triggered = await project.cli('trigger', 'site');
    if ((await tries(project.dir)).length < 2) assert.equal((await project.cli('once')).code, 0);
    const record = await tries(project.dir);
    assert.deepEqual(
      record.map((l) => l.split(' ').slice(0, 3).join(' ')),
      [`try 1 ${marked}`, `try 2 ${marked}`],
      triggered.stdout + triggered.stderr,
    );
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'succeeded');
  });

  test('a newer commit pushed during the wait runs instead of the retry', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const first = remote.head();
    // The first try pushes a newer commit, then fails; the newer commit succeeds.
    const step = `echo "$GITWATCH_COMMIT" >> "$RECORD"; if [ "$GITWATCH_COMMIT" = "${first}" ]; then git -C "${remote.dir}" commit -q --allow-empty -m newer; exit 1; fi`;
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, retry: { attempts: 3, backoff: '1s' }, pipeline: [step] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const newer = remote.head();
    assert.notEqual(newer, first);
    assert.deepEqual(await project.record(), [first, newer]);
    assert.equal((await project.state()).repos['site']?.commit, newer);
  });
});
