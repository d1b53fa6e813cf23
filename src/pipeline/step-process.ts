// One step as a process: `/bin/sh -c` in its own process group, output streamed line by line,
// a time limit that kills the whole group (SIGTERM, then SIGKILL), and interruption on shutdown.

import type { WriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { StepStatus } from '../runtime/events.js';
import { trackStep, untrackStep } from './running-steps.js';

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
}

export interface StepProcessResult {
  readonly status: StepStatus;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
}

/** How long output may still arrive after the step's process has exited. */
const DRAIN_MS = 100;

export async function runStepProcess(options: StepProcessOptions): Promise<StepProcessResult> {
  // Loaded on first use: a cycle with nothing to run never pays for it.
  const { execa } = await import('execa');
  const child = execa('/bin/sh', ['-c', options.command], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  child.catch(() => undefined);
  const pid = child.pid;
  if (pid !== undefined) trackStep(pid);
  const lines = new LineSplitter(options.onLine);
  // A read can end inside a multi-byte character; each stream keeps its own partial bytes for the next read.
  const decoders = [child.stdout, child.stderr].map((stream) => {
    const decoder = new StringDecoder('utf8');
    stream?.on('data', (chunk: Buffer) => {
      options.log?.write(chunk);
      lines.push(decoder.write(chunk));
    });
    return decoder;
  });

  let stopped: StepStatus | undefined;
  let killing: Promise<void> | undefined;
  const stop = (why: StepStatus, graceMs: number): void => {
    if (stopped !== undefined || pid === undefined) return;
    stopped = why;
    killing = killGroup(pid, graceMs);
  };
  const timer = setTimeout(() => stop('timed-out', options.killAfterMs ?? 5000), options.timeoutMs);
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
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) untrackStep(pid);
  // A background process the step started may hold the pipes open; the step is over when its shell exits.
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (drainTimer = setTimeout(r, DRAIN_MS)))]);
  clearTimeout(drainTimer);
  child.stdout?.destroy();
  child.stderr?.destroy();
  for (const decoder of decoders) lines.push(decoder.end());
  lines.flush();
  // A stop in progress (timeout, shutdown) finishes killing the group before the step counts as ended.
  await killing;

  const status: StepStatus = stopped ?? (exit.code === 0 ? 'succeeded' : 'failed');
  return { status, exitCode: exit.code ?? undefined, signal: exit.signal ?? undefined };
}

async function killGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitForGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

async function waitForGroupGone(pgid: number, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
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
