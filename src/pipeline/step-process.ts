// One step through the process-group runner: `/bin/sh -c` in the step's folder, output masked of secrets,
// then streamed line by line to events and byte for byte to the run log, no faster than the reporter takes it. A step is over
// when its shell exits: what it started in the background is left alone, and holds the result only briefly.

import { StringDecoder } from 'node:string_decoder';
import type { StepStatus } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import { runInGroup, type StopReason } from '../runtime/process-group.js';
import { SHUTDOWN_GRACE_MS, type ProcessGroups } from '../runtime/processes.js';
import { StreamMasker } from '../rules/secret-mask.js';

export interface StepProcessOptions {
  readonly command: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Aborted on shutdown: the step is stopped and counts as interrupted. */
  readonly signal?: AbortSignal | undefined;
  /** Aborted by `gitwatch cancel`: the step is stopped like a timeout and counts as canceled. */
  readonly cancel?: AbortSignal | undefined;
  /** SIGTERM → SIGKILL delay after a timeout or cancel. */
  readonly killAfterMs?: number;
  /** SIGTERM → SIGKILL delay on shutdown. */
  readonly graceMs?: number;
  readonly onLine?: (line: string) => void;
  /** A wait while whoever takes the lines is behind (see Reporter.backlog); the step's output is paused meanwhile. */
  readonly backlog?: () => Promise<void> | undefined;
  /** Values shown as `***` wherever the output goes (see rules/secret-mask.ts). */
  readonly secrets?: readonly string[] | undefined;
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

/**
 * Runs the step's command (`$1`) once gitwatch says go, which it does once the step's group is tracked (and
 * so known to the orphan guard): if gitwatch dies in between, the step reads EOF and exits unrun. The
 * step itself gets no stdin.
 */
const GATE = 'read -r go || exit 129; exec </dev/null; exec /bin/sh -c "$1"';

/** How long output may still arrive after the step's shell has exited, when its group lives on. */
const DRAIN_MS = 100;
/**
 * The same when nothing of its group is left: the pipes then close as soon as their last bytes are read,
 * which on a loaded machine can take longer than DRAIN_MS; the step's last lines must not be cut off.
 */
const CLOSE_MS = 5000;

export async function runStepProcess(options: StepProcessOptions): Promise<StepProcessResult> {
  const lines = new LineSplitter(options.onLine);
  // A read can end inside a multi-byte character; each stream keeps its own partial bytes for the next read.
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  // Masked before anything sees the bytes: the run log, the lines, and so events, tails and reporters.
  const maskers = { stdout: new StreamMasker(options.secrets ?? []), stderr: new StreamMasker(options.secrets ?? []) };
  const output = (chunk: Buffer, from: 'stdout' | 'stderr'): void => {
    if (chunk.length === 0) return;
    options.log?.write(chunk);
    lines.push(decoders[from].write(chunk));
  };
  const killAfterMs = options.killAfterMs ?? 5000;
  const result = await runInGroup('/bin/sh', ['-c', GATE, 'gitwatch-step', options.command], {
    cwd: options.cwd,
    env: options.env,
    input: 'go\n',
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    cancel: options.cancel,
    graceMs: { default: killAfterMs, aborted: options.graceMs ?? SHUTDOWN_GRACE_MS },
    onOutput: (chunk, from) => output(maskers[from].push(chunk), from),
    backlog: options.backlog,
    leftovers: 'leave',
    drainMs: CLOSE_MS,
    leftDrainMs: DRAIN_MS,
    groups: options.groups,
    clock: options.clock,
  });
  // What was held back as a possible start of a secret ends the output.
  output(maskers.stdout.end(), 'stdout');
  output(maskers.stderr.end(), 'stderr');
  lines.push(decoders.stdout.end());
  lines.push(decoders.stderr.end());
  lines.flush();
  // The shell never started: counted as the shell would count a command it cannot run.
  if (result.spawnError !== undefined) return { status: 'failed', exitCode: 127, signal: undefined, spawnError: result.spawnError.code };
  const status = result.stopped === undefined ? (result.code === 0 ? 'succeeded' : 'failed') : stepStatus(result.stopped);
  return { status, exitCode: result.code ?? undefined, signal: result.signal ?? undefined };
}

function stepStatus(stopped: StopReason): StepStatus {
  switch (stopped) {
    case 'timeout':
      return 'timed-out';
    case 'aborted':
      return 'interrupted';
    case 'canceled':
      return 'canceled';
    case 'too-much-output':
      // Steps have no output cap (the run log keeps its own); were one set, the step would fail.
      return 'failed';
  }
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
