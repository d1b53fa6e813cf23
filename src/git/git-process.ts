// One git command as a process in its own process group. git starts helpers of its own (`sh` and `ssh`
// for SSH remotes, `git-upload-pack` and `git pack-objects` for local ones); a time limit or shutdown
// stops the whole group, SIGTERM then SIGKILL, so none of them outlives the command or gitwatch.

import { spawn } from 'node:child_process';
import type { Clock } from '../runtime/clock.js';
import type { ProcessGroups } from '../runtime/processes.js';

export interface GitProcessOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly groups: ProcessGroups;
  readonly clock: Clock;
}

export interface GitProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why gitwatch stopped it, if it did. */
  readonly stopped: 'timeout' | 'aborted' | 'too-much-output' | undefined;
  /** git could not be started at all. */
  readonly spawnError: Error | undefined;
}

/** More than any ls-remote gitwatch asks for; the rest of git's output is not read. */
const MAX_OUTPUT = 64 * 1024 * 1024;
/** git and its helpers exit at once on SIGTERM; this is for one that does not. */
const KILL_AFTER_MS = 2000;
/**
 * How long git's output may still arrive once it has exited. Normally the pipes close with it; on a
 * loaded machine the last bytes can take a while to be read, and cutting them short would turn a good
 * answer into a wrong one (an ls-remote without its HEAD line). Only a helper that outlives git could hold
 * them longer, and that helper is stopped below.
 */
const CLOSE_MS = 10_000;

export async function runGitProcess(args: readonly string[], options: GitProcessOptions): Promise<GitProcessResult> {
  const { groups, clock } = options;
  const child = spawn('git', args, { env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid !== undefined) groups.track(pid);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  let stopped: GitProcessResult['stopped'];
  let killing: Promise<void> | undefined;
  const stop = (why: NonNullable<GitProcessResult['stopped']>): void => {
    if (stopped !== undefined || pid === undefined) return;
    stopped = why;
    killing = killGroup(groups, clock, pid);
  };
  const collect = (into: Buffer[]) => (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_OUTPUT) return stop('too-much-output');
    into.push(chunk);
  };
  child.stdout.on('data', collect(out));
  child.stderr.on('data', collect(err));

  const timer = new AbortController();
  void clock.sleep(options.timeoutMs, timer.signal).then(() => {
    if (!timer.signal.aborted) stop('timeout');
  });
  const onAbort = (): void => stop('aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const closed = new Promise((resolve) => child.once('close', resolve));
  const exit = await new Promise<{ code: number | null; error: Error | undefined }>((resolve) => {
    child.once('exit', (code) => resolve({ code, error: undefined }));
    child.once('error', (error) => resolve({ code: null, error }));
  });
  timer.abort();
  options.signal?.removeEventListener('abort', onAbort);
  // git is gone: whatever of its group is left (a helper holding its pipes) is stopped too.
  if (pid !== undefined && stopped === undefined && groups.alive(pid)) killing = killGroup(groups, clock, pid);
  const drain = new AbortController();
  await Promise.race([closed, clock.sleep(CLOSE_MS, drain.signal)]);
  drain.abort();
  child.stdout.destroy();
  child.stderr.destroy();
  // A stopped command counts as over only when its whole group is gone.
  await killing;
  if (pid !== undefined) groups.untrack(pid);
  return {
    code: exit.code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    stopped,
    spawnError: exit.error,
  };
}

async function killGroup(groups: ProcessGroups, clock: Clock, pgid: number): Promise<void> {
  if (!groups.signal(pgid, 'SIGTERM')) return;
  const until = clock.now().getTime() + KILL_AFTER_MS;
  while (clock.now().getTime() < until) {
    if (!groups.alive(pgid)) return;
    await clock.sleep(20);
  }
  groups.signal(pgid, 'SIGKILL');
}
