// One step as a process: `/bin/sh -c` in its own process group, output streamed line by line,
// a time limit that kills the whole group (SIGTERM, then SIGKILL), and interruption on shutdown.

import { StringDecoder } from 'node:string_decoder';
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
  /** Aborted by `gitwatch cancel`: the step is stopped like a timeout and counts as canceled. */
  readonly cancel?: AbortSignal | undefined;
  /** SIGTERM → SIGKILL delay after a timeout. */
  readonly killAfterMs?: number;
  /** SIGTERM → SIGKILL delay on shutdown. */
  readonly graceMs?: number;
  readonly onLine?: (line: string) => void;
  /** A wait while whoever takes the lines is behind (see Reporter.backlog); the step's output is paused meanwhile. */
  readonly backlog?: () => Promise<void> | undefined;
  /** The run log: every byte of output goes there (it decides what to keep). */
  readonly log?: { write(chunk: Buffer): unknown } | undefined;
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

/** How long output may still arrive after the step's process has exited, when its group lives on. */
const DRAIN_MS = 100;
/**
 * The same when nothing of its group is left: the pipes then close as soon as their last bytes are read,
 * which on a loaded machine can take longer than DRAIN_MS; the step's last lines must not be cut off.
 */
const CLOSE_MS = 5000;

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
  let exited = false;
  // A read can end inside a multi-byte character; each stream keeps its own partial bytes for the next read.
  const decoders = [child.stdout, child.stderr].map((stream) => {
    const decoder = new StringDecoder('utf8');
    stream?.on('data', (chunk: Buffer) => {
      options.log?.write(chunk);
      lines.push(decoder.write(chunk));
      // A paused pipe fills up and blocks the step's writes: the reader's pace becomes the step's.
      const wait = exited ? undefined : options.backlog?.();
      if (wait === undefined) return;
      stream?.pause();
      void wait.then(() => stream?.resume());
    });
    return decoder;
  });

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
  const onCancel = (): void => stop('canceled', options.killAfterMs ?? 5000);
  options.cancel?.addEventListener('abort', onCancel, { once: true });
  if (options.cancel?.aborted) onCancel();

  // Listen for 'close' from the start: it may come right after 'exit', before we would get to it.
  const closed = new Promise((resolve) => child.once('close', resolve));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (pid === undefined) resolve({ code: 127, signal: null });
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  timer.abort();
  options.signal?.removeEventListener('abort', onAbort);
  options.cancel?.removeEventListener('abort', onCancel);
  if (pid !== undefined) groups.untrack(pid);
  // What is left in the pipes is at most their capacity: read it now, so the drain below gets it all.
  exited = true;
  child.stdout?.resume();
  child.stderr?.resume();
  // A background process the step started may hold the pipes open; the step is over when its shell exits.
  const backgrounded = pid !== undefined && groups.alive(pid);
  const drain = new AbortController();
  await Promise.race([closed, clock.sleep(backgrounded ? DRAIN_MS : CLOSE_MS, drain.signal)]);
  drain.abort();
  child.stdout?.destroy();
  child.stderr?.destroy();
  for (const decoder of decoders) lines.push(decoder.end());
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

/** Longest line kept for events; the run log keeps every byte. */
export const MAX_LINE = 64 * 1024;
export const LINE_CUT_MARK = ' … (line cut at 64 KiB)';

/**
 * Splits streamed output into lines; a partial last line is flushed at the end. Only the first MAX_LINE
 * characters of a line are kept, so output without newlines costs linear time and bounded memory.
 */
class LineSplitter {
  private rest = '';
  private cut = false;
  constructor(private readonly onLine: ((line: string) => void) | undefined) {}

  push(text: string): void {
    if (!this.onLine) return;
    for (let start = 0; ;) {
      const end = text.indexOf('\n', start);
      this.keep(text.slice(start, end === -1 ? undefined : end));
      if (end === -1) return;
      this.emit();
      start = end + 1;
    }
  }

  flush(): void {
    if (this.rest !== '' || this.cut) this.emit();
  }

  private keep(piece: string): void {
    if (this.cut) return;
    const room = MAX_LINE - this.rest.length;
    this.cut = piece.length > room;
    this.rest += this.cut ? piece.slice(0, room) : piece;
  }

  private emit(): void {
    const line = this.cut ? `${this.rest}${LINE_CUT_MARK}` : this.rest.replace(/\r$/, '');
    this.rest = '';
    this.cut = false;
    this.onLine?.(line);
  }
}
