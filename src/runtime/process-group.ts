// One child process in a process group of its own: every git command and every step runs through here.
// A process gitwatch starts may start others (git its `ssh` and `git-upload-pack`, a step anything), so a
// time limit, a shutdown or a cancel stops the whole group, SIGTERM and then SIGKILL after a grace; and
// the group is registered in ProcessGroups while it runs, so a hard exit of gitwatch takes it along.
//
// It is node:child_process `spawn`, not execa: bench/spawn.ts measured execa at about 0.6 ms more wall
// time and 0.9 ms more of gitwatch's own CPU per git process (twice what spawn costs), plus about 110 ms
// for its first import, and a daemon starts hundreds of git processes a cycle.
//
// The life of one run:
//   spawn → track → (input on stdin) → output read until exit, stop on timeout | abort | cancel | cap
//   exit → what of the group lives on is stopped or left → drain the pipes (bounded) → untrack → result

import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock } from './clock.js';
import type { ProcessGroups } from './processes.js';

/** Why gitwatch stopped a process: its time limit, shutdown, `gitwatch cancel`, or its output passed the cap. */
export type StopReason = 'timeout' | 'aborted' | 'canceled' | 'too-much-output';

export interface GroupRunOptions {
  readonly cwd?: string | undefined;
  /** The whole environment: nothing of gitwatch's own is added. */
  readonly env: Readonly<Record<string, string>>;
  /** Written to stdin once the group is tracked, then stdin is closed; without it stdin is /dev/null. */
  readonly input?: string | undefined;
  readonly timeoutMs: number;
  /** Shutdown: stops the group as 'aborted'. */
  readonly signal?: AbortSignal | undefined;
  /** `gitwatch cancel`: stops the group as 'canceled'. */
  readonly cancel?: AbortSignal | undefined;
  /** SIGTERM → SIGKILL, per reason; `default` for the others, and for what of a group is stopped after its exit. */
  readonly graceMs: { readonly default: number } & Partial<Record<StopReason, number>>;
  /** Bytes of output, both streams together, past which the group is stopped and the rest is not delivered. */
  readonly maxOutput?: number | undefined;
  /** Each chunk as it is read. */
  readonly onOutput: (chunk: Buffer, from: 'stdout' | 'stderr') => void;
  /** A wait while the reader of the output is behind; the stream is paused meanwhile (until the exit). */
  readonly backlog?: (() => Promise<void> | undefined) | undefined;
  /**
   * What of the group still runs once its first process exited: 'stop' it (git's helpers must not outlive
   * the command), or 'leave' it (a step's background services are the step's business).
   */
  readonly leftovers: 'stop' | 'leave';
  /** How long output may still arrive after the exit. */
  readonly drainMs: number;
  /** The same when the group lives on and is left alone: its processes may hold the pipes for as long as they run. */
  readonly leftDrainMs?: number | undefined;
  readonly groups: ProcessGroups;
  readonly clock: Clock;
}

export interface GroupRunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why gitwatch stopped it, if it did. */
  readonly stopped: StopReason | undefined;
  /** The process could not be started at all (E2BIG, ENOENT). */
  readonly spawnError: NodeJS.ErrnoException | undefined;
}

/** How often a stopped group is looked at until it is gone or its grace is over. */
const POLL_MS = 20;

export async function runInGroup(file: string, args: readonly string[], options: GroupRunOptions): Promise<GroupRunResult> {
  const { groups, clock } = options;
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Some refusals of the kernel (E2BIG) are thrown rather than emitted: there never was a process.
    return { code: null, signal: null, stopped: undefined, spawnError: error as NodeJS.ErrnoException };
  }
  const pid = child.pid;
  if (pid !== undefined) groups.track(pid);
  let tracked = pid !== undefined;
  const untrack = (): void => {
    if (tracked && pid !== undefined) groups.untrack(pid);
    tracked = false;
  };
  // A process that does not read its stdin closes the pipe: no failure of gitwatch's.
  child.stdin?.on('error', () => undefined);
  if (options.input !== undefined) child.stdin?.end(options.input);

  let stopped: StopReason | undefined;
  let killing: Promise<void> | undefined;
  const kill = (graceMs: number): void => {
    if (pid !== undefined) killing ??= killGroup(groups, clock, pid, graceMs);
  };
  const stop = (why: StopReason): void => {
    if (stopped !== undefined || pid === undefined) return;
    stopped = why;
    kill(options.graceMs[why] ?? options.graceMs.default);
  };

  let size = 0;
  let exited = false;
  for (const [from, stream] of [
    ['stdout', child.stdout],
    ['stderr', child.stderr],
  ] as const) {
    stream?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (options.maxOutput !== undefined && size > options.maxOutput) return stop('too-much-output');
      options.onOutput(chunk, from);
      // A paused pipe fills up and blocks the writer: the reader's pace becomes the process's.
      const wait = exited ? undefined : options.backlog?.();
      if (wait === undefined) return;
      stream.pause();
      const resume = (): void => void stream.resume();
      void wait.then(resume, resume);
    });
  }

  // The time limit is a sleep on the injected clock that the exit cuts short.
  const timer = new AbortController();
  void clock.sleep(options.timeoutMs, timer.signal).then(() => {
    if (!timer.signal.aborted) stop('timeout');
  });
  const unlisten = (
    [
      [options.signal, 'aborted'],
      [options.cancel, 'canceled'],
    ] as const
  ).map(([signal, why]) => {
    const onAbort = (): void => stop(why);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    return () => signal?.removeEventListener('abort', onAbort);
  });

  // Listened for from the start: 'close' may come right after 'exit', before we would get to it.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  timer.abort();
  for (const off of unlisten) off();
  // No process started (a refusal emitted rather than thrown): no pipe has a writer, nothing is left to drain or stop.
  if (pid === undefined) {
    child.stdout?.destroy();
    child.stderr?.destroy();
    return { code: null, signal: null, stopped: undefined, spawnError: exit.error };
  }
  exited = true;
  // What is left in the pipes is at most their capacity: read it now, so the drain below gets it all.
  child.stdout?.resume();
  child.stderr?.resume();
  const livesOn = pid !== undefined && groups.alive(pid);
  if (livesOn && options.leftovers === 'stop') kill(options.graceMs.default);
  // Unless it is being stopped, what is left of the group is no longer gitwatch's to kill, not even on a hard
  // exit: a step's background services outlive the step by design.
  if (killing === undefined) untrack();
  // Normally the pipes close with the exit; on a loaded machine the last bytes can take a while to be read,
  // and cutting them short would turn a good answer into a wrong one. Only what outlives the process can
  // hold them longer: that is stopped, or, when it is left alone, waited for only briefly.
  const drainMs = livesOn && options.leftovers === 'leave' ? (options.leftDrainMs ?? options.drainMs) : options.drainMs;
  const drain = new AbortController();
  await Promise.race([closed, clock.sleep(drainMs, drain.signal)]);
  drain.abort();
  child.stdout?.destroy();
  child.stderr?.destroy();
  // A stopped process counts as over only when its whole group is gone.
  await killing;
  untrack();
  return { code: exit.code, signal: exit.signal, stopped, spawnError: exit.error };
}

/** SIGTERM to the group, then SIGKILL if any of it is still there after `graceMs`. */
async function killGroup(groups: ProcessGroups, clock: Clock, pgid: number, graceMs: number): Promise<void> {
  if (!groups.signal(pgid, 'SIGTERM')) return;
  const until = clock.now().getTime() + graceMs;
  while (clock.now().getTime() < until) {
    if (!groups.alive(pgid)) return;
    await clock.sleep(POLL_MS);
  }
  if (groups.alive(pgid)) groups.signal(pgid, 'SIGKILL');
}
