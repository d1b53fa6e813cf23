// The process-group runner that git and steps share, with real processes: how it stops a group (per
// reason, SIGKILL after the grace), what of a group it leaves or stops after the exit, and that a
// background process holding the pipes does not hold the result.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { systemClock, type Clock } from '../src/runtime/clock.js';
import { runInGroup, type GroupRunOptions, type StopReason } from '../src/runtime/process-group.js';
import { ProcessGroups } from '../src/runtime/processes.js';
import { FakeClock } from './helpers/fake-clock.js';
import { tempDir, testEnv } from './helpers/temp.js';

interface Rig {
  readonly groups: ProcessGroups;
  /** Groups tracked now (what the orphan guard would kill). */
  readonly tracked: Set<number>;
  /** Every group ever tracked. */
  readonly started: number[];
  readonly output: () => string;
  /** Resolves once `text` has been printed. */
  readonly printed: (text: string) => Promise<void>;
  readonly options: (overrides?: Partial<GroupRunOptions>) => GroupRunOptions;
}

async function rig(t: TestContext, clock: Clock = systemClock): Promise<Rig> {
  const tracked = new Set<number>();
  const started: number[] = [];
  const groups = new ProcessGroups(
    { pid: process.pid, kill: (pid, signal) => process.kill(pid, signal) },
    {
      add: (pgid) => void (tracked.add(pgid), started.push(pgid)),
      remove: (pgid) => void tracked.delete(pgid),
    },
  );
  // Whatever a test leaves running (a group left alone on purpose) goes with it.
  t.after(() => {
    for (const pgid of started) groups.signal(pgid, 'SIGKILL');
  });
  let text = '';
  const waiters: (() => void)[] = [];
  const dir = await tempDir(t);
  return {
    groups,
    tracked,
    started,
    output: () => text,
    printed: (want) =>
      new Promise<void>((resolve) => {
        const check = (): void => (text.includes(want) ? resolve() : void waiters.push(check));
        check();
      }),
    options: (overrides = {}) => ({
      cwd: dir,
      env: testEnv(dir),
      timeoutMs: 60_000,
      graceMs: { default: 60_000 },
      onOutput: (chunk) => {
        text += chunk.toString();
        for (const wake of waiters.splice(0)) wake();
      },
      leftovers: 'stop',
      drainMs: 10_000,
      groups,
      clock,
      ...overrides,
    }),
  };
}

/**
 * Processes of group `pgid` that still run. A zombie does not count: a killed orphan stays one until init
 * reaps it, which on some machines takes a second or two, and it runs nothing meanwhile.
 */
function runningIn(pgid: number | undefined): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so fields count from its end.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(name));
  }
  return pids;
}

const sh = (script: string): [string, string[]] => ['/bin/sh', ['-c', script]];

describe('process-group runner', () => {
  test('exit code, output of both streams, and the group tracked only while it runs', async (t) => {
    const r = await rig(t);
    const result = await runInGroup(...sh('echo out; echo err >&2; exit 3'), r.options());
    assert.deepEqual(result, { code: 3, signal: null, stopped: undefined, spawnError: undefined });
    assert.match(r.output(), /out/);
    assert.match(r.output(), /err/);
    assert.equal(r.started.length, 1);
    assert.equal(r.tracked.size, 0);
  });

  test('input reaches stdin once the group is tracked, then stdin is closed', async (t) => {
    const r = await rig(t);
    const result = await runInGroup(...sh('read -r line; echo "got $line"; cat'), r.options({ input: 'go\n' }));
    assert.equal(result.code, 0);
    assert.equal(r.output(), 'got go\n');
  });

  for (const [reason, signalOf] of [
    ['aborted', 'signal'],
    ['canceled', 'cancel'],
  ] as const) {
    test(`${reason}: a group that ignores SIGTERM gets SIGKILL after that reason's grace, not the default's`, async (t) => {
      const r = await rig(t);
      const controller = new AbortController();
      // `trap '' TERM` is inherited: the sleep ignores SIGTERM too.
      const run = runInGroup(
        ...sh("trap '' TERM; echo ready; while :; do sleep 1; done"),
        r.options({ [signalOf]: controller.signal, graceMs: { default: 60_000, [reason]: 300 } }),
      );
      await r.printed('ready');
      const stoppedAt = Date.now();
      controller.abort();
      const result = await run;
      const took = Date.now() - stoppedAt;
      assert.equal(result.stopped, reason satisfies StopReason);
      assert.equal(result.signal, 'SIGKILL');
      assert.ok(took >= 300 && took < 10_000, `stopped after ${took} ms`);
      assert.deepEqual(runningIn(r.started[0]), [], 'the group outlived its stop');
      assert.equal(r.tracked.size, 0);
    });
  }

  test('shutdown and cancel each name their own reason; the first one wins', async (t) => {
    const r = await rig(t);
    const shutdown = new AbortController();
    const cancel = new AbortController();
    const run = runInGroup(...sh('echo ready; sleep 30'), r.options({ signal: shutdown.signal, cancel: cancel.signal }));
    await r.printed('ready');
    cancel.abort();
    shutdown.abort();
    const result = await run;
    assert.equal(result.stopped, 'canceled');
    assert.equal(result.signal, 'SIGTERM');
    const already = await runInGroup(...sh('sleep 30'), r.options({ signal: AbortSignal.abort() }));
    assert.equal(already.stopped, 'aborted');
  });

  test('the time limit runs on the injected clock: SIGTERM when the fake clock passes it', async (t) => {
    const clock = new FakeClock();
    const r = await rig(t, clock);
    let settled = false;
    const run = runInGroup(...sh('echo ready; sleep 30'), r.options({ timeoutMs: 5000 })).finally(() => (settled = true));
    await r.printed('ready');
    // The time limit is the one sleep pending; nothing happens until the clock moves.
    assert.equal(clock.pending, 1);
    clock.advance(4999);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(settled, false, 'stopped before its time limit');
    clock.advance(1);
    // The stopped group is looked at on the clock too, until it is gone.
    while (!settled) {
      clock.advance(20);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const result = await run;
    assert.equal(result.stopped, 'timeout');
    assert.equal(result.signal, 'SIGTERM');
    assert.equal(clock.pending, 0, 'a sleep of the runner was left behind');
  });

  test('left alone, a background process holding the pipes holds the result only for the drain, and lives on untracked', async (t) => {
    const r = await rig(t);
    const started = Date.now();
    const result = await runInGroup(...sh('sleep 30 & echo started'), r.options({ leftovers: 'leave', drainMs: 30_000, leftDrainMs: 100 }));
    assert.ok(Date.now() - started < 5000, `the result took ${Date.now() - started} ms`);
    assert.equal(result.code, 0);
    assert.equal(result.stopped, undefined);
    assert.equal(r.output(), 'started\n');
    assert.equal(runningIn(r.started[0]).length, 1, 'the background process was not left alone');
    assert.equal(r.tracked.size, 0, 'a group left alone is still tracked');
  });

  test('stopped after the exit, what of the group lives on does not hold the result either', async (t) => {
    const r = await rig(t);
    const started = Date.now();
    const result = await runInGroup(...sh('sleep 30 & echo started'), r.options({ leftovers: 'stop', graceMs: { default: 2000 } }));
    assert.ok(Date.now() - started < 5000, `the result took ${Date.now() - started} ms`);
    assert.equal(result.code, 0);
    assert.equal(r.output(), 'started\n');
    assert.deepEqual(runningIn(r.started[0]), [], 'a helper outlived the command');
    assert.equal(r.tracked.size, 0);
  });

  test('output past the cap stops the group and is not delivered', async (t) => {
    const r = await rig(t);
    const result = await runInGroup(...sh('head -c 1000000 /dev/zero; sleep 30'), r.options({ maxOutput: 1000 }));
    assert.equal(result.stopped, 'too-much-output');
    assert.ok(r.output().length <= 1000, `${r.output().length} bytes were delivered`);
  });

  test('a process the kernel refuses to start is a spawn error, and nothing is tracked', async (t) => {
    const r = await rig(t);
    const tooBig = await runInGroup(...sh(`: ${'x'.repeat(4 * 1024 * 1024)}`), r.options());
    assert.equal(tooBig.spawnError?.code, 'E2BIG');
    const noFolder = await runInGroup(...sh('true'), r.options({ cwd: '/nonexistent/folder' }));
    assert.equal(noFolder.spawnError?.code, 'ENOENT');
    assert.deepEqual(r.started, []);
  });
});
