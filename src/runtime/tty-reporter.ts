// Output on a terminal. Each run is drawn live by listr2 (see tty-run.ts) and, once over, erased and
// replaced by its summary; everything else is a plain line. One thing is on screen at a time: lines that
// come in while a run is drawn wait for it to end, so the live view never has to share the screen.

import type { Writable } from 'node:stream';
import { plainLine } from '../rules/safe-text.js';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';
import { LiveRun } from './tty-run.js';
import { eventLines, makeStyle, runSummary, type SummaryOptions } from './tty-summary.js';

export interface TtyReporterOptions {
  readonly out: Writable;
  /** Written by others while a run is drawn; held back until the view is erased. */
  readonly err: Writable;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
}

/** The running step's latest lines on screen: enough to see progress, few enough to fit any terminal. */
const OUTPUT_LINES = 5;
const VERBOSE_OUTPUT_LINES = 10;

export class TtyReporter implements Reporter {
  private queue: Promise<void> = Promise.resolve();
  private run: LiveRun | undefined;
  private readonly summary: SummaryOptions;

  constructor(private readonly options: TtyReporterOptions) {
    this.summary = { quiet: options.quiet, verbose: options.verbose, style: makeStyle(options.color) };
  }

  emit(event: GitwatchEvent | DaemonEvent): void {
    const e = forTerminal(event);
    switch (e.type) {
      case 'run-started':
        return this.startRun(e);
      case 'step-started':
        return this.runOf(e.repo)?.stepStarted(e.index);
      case 'step-output':
        return this.runOf(e.repo)?.output(e.index, e.line);
      case 'step-finished':
        return this.runOf(e.repo)?.stepFinished(e);
      case 'step-skipped':
        return this.runOf(e.repo)?.stepSkipped(e.index);
      case 'run-finished': {
        const run = this.runOf(e.repo);
        this.run = undefined;
        return run?.finish({ status: e.status, durationMs: e.durationMs, error: e.error, log: e.log });
      }
      default: {
        // The problems themselves go to stderr, like `validate` prints them, once the screen is free.
        if (e.type === 'config-rejected') this.enqueue(() => void this.options.err.write(`${e.detail}\n`));
        const stack = e.type === 'turn-failed' ? e.stack : undefined;
        if (stack !== undefined) this.enqueue(() => void this.options.err.write(`${stack}\n`));
        const lines = eventLines(e, this.summary);
        if (lines.length > 0) this.enqueue(() => this.write(lines));
      }
    }
  }

  private runOf(repo: string): LiveRun | undefined {
    return this.run?.repo === repo ? this.run : undefined;
  }

  private startRun(e: Extract<GitwatchEvent, { type: 'run-started' }>): void {
    // Pipelines run one at a time; a run still open here will never hear its end.
    this.run?.finish(undefined);
    const { out, err, quiet, verbose, color } = this.options;
    const run = new LiveRun(e, { out, err, color, outputLines: verbose ? VERBOSE_OUTPUT_LINES : OUTPUT_LINES, keepLines: verbose });
    this.run = run;
    this.enqueue(async () => {
      // Quiet shows failures only: no live view, just the summary of a run that went wrong.
      await (quiet ? run.finished : run.show());
      this.write(runSummary(run.view, this.summary));
    });
  }

  private write(lines: readonly string[]): void {
    if (lines.length > 0) this.options.out.write(`${lines.join('\n')}\n`);
  }

  private enqueue(work: () => Promise<void> | void): void {
    this.queue = this.queue.then(work).catch((err: unknown) => {
      this.options.err.write(`gitwatch: the terminal view failed (this is a bug): ${(err as Error).message}\n`);
    });
  }

  async close(): Promise<void> {
    // A run that never reported its end (gitwatch is stopping) must not keep its view up.
    this.run?.finish(undefined);
    this.run = undefined;
    await this.queue;
  }
}

/**
 * The event with its text made safe to draw, as plain output makes each line: a step's output and names
 * from outside (a remote's branches) lose their terminal sequences and show other controls escaped. A
 * stack or a config's report keeps its lines; they were made by gitwatch, and are escaped where they quote.
 */
function forTerminal<E extends GitwatchEvent | DaemonEvent>(event: E): E {
  const safe = (key: string, value: unknown): unknown => {
    if (key === 'stack' || key === 'detail') return value;
    if (typeof value === 'string') return plainLine(value);
    return Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? plainLine(v) : v)) : value;
  };
  return Object.fromEntries(Object.entries(event).map(([key, value]) => [key, safe(key, value)])) as E;
}
