// One step as a process: `/bin/sh -c` in its own process group, output streamed line by line,
// a time limit that kills the whole group (SIGTERM, then SIGKILL), and interruption on shutdown.

import type { WriteStream } from 'node:fs';
import type { StepStatus } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import type { ProcessGroups } from '../runtime/processes.js';

export interface StepProcessOptions {
  readonly command: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Aborted on shutdown: the step is stopped and counts as interrupted. */
  readonly signal?: AbortSignal | undefined;
  /** SIGTERM → SIGKILL delay after a timeout. */
  readonly killAfterMs?: number;
  /** SIGTERM → SIGKILL delay on shutdown. */
  readonly graceMs?: number;
  readonly onLine?: (line: string) => void;
  readonly log?: WriteStream | undefined;
  readonly clock: Clock;
  /** Where the step's group is registered while it runs, so a hard exit can kill it. */
  readonly groups: ProcessGroups;
}

export interface StepProcessResult {
  readonly status: StepStatus;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Why the step's shell could not start at all (E2BIG), when that was the case. */
  readonly spawnError?: string | undefined;
}

/** Runs the step's command (`$1`) once gitwatch says go; the step itself gets no stdin. */
const GATE = 'read -r go || exit 129; exec </dev/null; exec /bin/sh -c "$1"';

/** How long output may still arrive after the step's process has exited. */
const DRAIN_MS = 100;

export async function runStepProcess(options: StepProcessOptions): Promise<StepProcessResult> {
  // Loaded on first use: a cycle with nothing to run never pays for it.
  const { execa } = await import('execa');
  // The step waits for a line on stdin before it runs: it is sent once the step's group is tracked (and
  // so known to the orphan guard). If gitwatch dies in between, the step reads EOF and exits unrun.
  const child = execa('/bin/sh', ['-c', GATE, 'gitwatch-step', options.command], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: 'pipe',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  child.catch(() => undefined);
  const pid = child.pid;
  const { groups, clock } = options;
  if (pid !== undefined) groups.track(pid);
  child.stdin?.on('error', () => undefined);
  child.stdin?.end('go\n');
  const lines = new LineSplitter(options.onLine);
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      options.log?.write(chunk);
      lines.push(chunk.toString('utf8'));
    });
  }

  let stopped: StepStatus | undefined;
  let killing: Promise<void> | undefined;
  const stop = (why: StepStatus, graceMs: number): void => {
    if (stopped !== undefined || pid === undefined) return;
    stopped = why;
    killing = killGroup(groups, clock, pid, graceMs);
  };
  // The time limit is a sleep on the injected clock that the step's exit cuts short.
  const timer = new AbortController();
  void clock.sleep(options.timeoutMs, timer.signal).then(() => {
    if (!timer.signal.aborted) stop('timed-out', options.killAfterMs ?? 5000);
  });
  const onAbort = (): void => stop('interrupted', options.graceMs ?? 10_000);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  // Listen for 'close' from the start: it may come right after 'exit', before we would get to it.
  const closed = new Promise((resolve) => child.once('close', resolve));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (pid === undefined) resolve({ code: 127, signal: null });
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  timer.abort();
  options.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) groups.untrack(pid);
  // A background process the step started may hold the pipes open; the step is over when its shell exits.
  const drain = new AbortController();
  await Promise.race([closed, clock.sleep(DRAIN_MS, drain.signal)]);
  drain.abort();
  child.stdout?.destroy();
  child.stderr?.destroy();
  lines.flush();
  // A stop in progress (timeout, shutdown) finishes killing the group before the step counts as ended.
  await killing;

  const status: StepStatus = stopped ?? (exit.code === 0 ? 'succeeded' : 'failed');
  // execa settles with the spawn error's code (E2BIG) when there never was a process.
  const spawnError = pid === undefined ? (await child).code : undefined;
  return { status, exitCode: exit.code ?? undefined, signal: exit.signal ?? undefined, spawnError };
}

async function killGroup(groups: ProcessGroups, clock: Clock, pgid: number, graceMs: number): Promise<void> {
  if (!groups.signal(pgid, 'SIGTERM')) return;
  if (await waitForGroupGone(groups, clock, pgid, graceMs)) return;
  groups.signal(pgid, 'SIGKILL');
}

async function waitForGroupGone(groups: ProcessGroups, clock: Clock, pgid: number, limitMs: number): Promise<boolean> {
  const until = clock.now().getTime() + limitMs;
  while (clock.now().getTime() < until) {
    if (!groups.alive(pgid)) return true;
    await clock.sleep(50);
  }
  return !groups.alive(pgid);
}

/** Splits streamed output into lines; a partial last line is flushed at the end. */
class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: ((line: string) => void) | undefined) {}

  push(text: string): void {
    if (!this.onLine) return;
    const parts = (this.rest + text).split(/\r?\n/);
    this.rest = parts.pop() ?? '';
    for (const line of parts) this.onLine(line);
  }

  flush(): void {
    if (this.rest !== '') this.onLine?.(this.rest);
    this.rest = '';
  }
}
