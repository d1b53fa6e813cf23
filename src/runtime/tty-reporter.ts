// Output on a terminal. Every running run is drawn live by listr2, side by side, with the runs that wait
// for their turn under them (tty-frame.ts); a finished run is taken off and its summary stays; everything
// else is a plain line. The screen has one writer at a time: when anything changes (a run starts or ends,
// one is queued, a line is to be printed), the frame on screen is erased, the lines waiting for it are
// printed, and the next frame is drawn below them. So lines never garble a frame, and a frame never
// leaves a copy of itself in the terminal's history.

import type { Writable } from 'node:stream';
import { plainLine } from '../rules/safe-text.js';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';
import { drawFrame, type QueuedRun } from './tty-frame.js';
import { LiveRun } from './tty-run.js';
import { eventLines, makeStyle, runSummary, type SummaryOptions } from './tty-summary.js';

export interface TtyReporterOptions {
  readonly out: Writable;
  /** Diagnostics; also written by others while a frame is up, and then held back until it is erased. */
  readonly err: Writable;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
}

/** The running step's latest lines on screen: enough to see progress, few enough to fit any terminal. */
const OUTPUT_LINES = 5;
const VERBOSE_OUTPUT_LINES = 10;

/** Events that end a repo's wait in the queue without a run of it: nothing will start it now. */
const LEAVES_QUEUE = new Set(['up-to-date', 'waiting', 'paused', 'disabled', 'run-skipped', 'check-failed', 'turn-failed', 'target-gone', 'unverified']);

interface Text {
  readonly to: Writable;
  readonly text: string;
}

export class TtyReporter implements Reporter {
  /** The runs in progress, in the order they started. */
  private readonly runs = new Map<string, LiveRun>();
  private readonly queued = new Map<string, QueuedRun>();
  /** What waits for the screen to be free of a frame, in the order it came. */
  private texts: Text[] = [];
  private readonly summary: SummaryOptions;
  private dirty = false;
  private wake: (() => void) | undefined;
  private closing = false;
  private readonly painter: Promise<void>;

  constructor(private readonly options: TtyReporterOptions) {
    this.summary = { quiet: options.quiet, verbose: options.verbose, style: makeStyle(options.color) };
    this.painter = this.paint();
  }

  emit(event: GitwatchEvent | DaemonEvent): void {
    if (this.closing) return;
    const e = forTerminal(event);
    switch (e.type) {
      case 'run-queued':
        // Quiet has no live view: a queued run shows nothing until it fails.
        if (this.options.quiet) return;
        this.queued.set(e.repo, { repo: e.repo, commit: e.commit, waitingFor: e.waitingFor });
        return this.changed();
      case 'run-started':
        return this.startRun(e);
      case 'step-started':
        return this.runs.get(e.repo)?.stepStarted(e.index);
      case 'step-output':
        return this.runs.get(e.repo)?.output(e.index, e.line);
      case 'step-finished':
        return this.runs.get(e.repo)?.stepFinished(e);
      case 'step-skipped':
        return this.runs.get(e.repo)?.stepSkipped(e.index);
      case 'run-finished':
        return this.endRun(e.repo, { status: e.status, durationMs: e.durationMs, error: e.error, log: e.log });
      default: {
        const [texts, queued] = [this.texts.length, this.queued.size];
        if (LEAVES_QUEUE.has(e.type) && 'repo' in e) this.queued.delete(e.repo);
        // Removed repos never start, and a stopping gitwatch starts nothing new.
        if (e.type === 'config-reloaded') for (const repo of e.removed) this.queued.delete(repo);
        if (e.type === 'daemon-stopping') this.queued.clear();
        // The problems themselves go to stderr, like `validate` prints them.
        if (e.type === 'config-rejected') this.print([e.detail], this.options.err);
        if (e.type === 'turn-failed' && e.stack !== undefined) this.print([e.stack], this.options.err);
        this.print(eventLines(e, this.summary));
        // Only lines to print or a queued run gone change the screen.
        if (this.texts.length !== texts || this.queued.size !== queued) this.changed();
        return;
      }
    }
  }

  private startRun(e: Extract<GitwatchEvent, { type: 'run-started' }>): void {
    this.queued.delete(e.repo);
    // A repo never runs twice at once; a run still open here will never hear its end.
    if (this.runs.has(e.repo)) this.endRun(e.repo, undefined);
    const { quiet, verbose, color } = this.options;
    this.runs.set(e.repo, new LiveRun(e, { color, outputLines: verbose ? VERBOSE_OUTPUT_LINES : OUTPUT_LINES, keepLines: verbose }));
    // Quiet draws nothing live: only the summary of a run that went wrong.
    if (!quiet) this.changed();
  }

  /** Takes the run off the live view; its summary is what stays. `end` is unset when it never reported one. */
  private endRun(repo: string, end: Parameters<LiveRun['finish']>[0]): void {
    const run = this.runs.get(repo);
    if (run === undefined) return;
    this.runs.delete(repo);
    run.finish(end);
    this.print(runSummary(run.view, this.summary));
    this.changed();
  }

  private print(lines: readonly string[], to: Writable = this.options.out): void {
    if (lines.length > 0) this.texts.push({ to, text: `${lines.join('\n')}\n` });
  }

  private changed(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Resolves at the next change, or now when one came since the screen was last drawn. */
  private nextChange(): Promise<void> {
    if (this.dirty) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The screen's one writer: lines while no frame is up, then a frame until something changes. */
  private async paint(): Promise<void> {
    for (;;) {
      await this.nextChange();
      // Events that come together (a run's end and the next one's start) make one change of the screen.
      await new Promise((resolve) => setImmediate(resolve));
      this.dirty = false;
      this.wake = undefined;
      const texts = this.texts;
      this.texts = [];
      for (const { to, text } of texts) to.write(text);
      if (this.closing) return;
      if (this.options.quiet || (this.runs.size === 0 && this.queued.size === 0)) continue;
      const { out, err, color, verbose } = this.options;
      try {
        await drawFrame([...this.runs.values()], [...this.queued.values()], this.nextChange(), {
          out,
          err,
          color,
          outputLines: verbose ? VERBOSE_OUTPUT_LINES : OUTPUT_LINES,
        });
      } catch (error) {
        err.write(`gitwatch: the terminal view failed (this is a bug): ${(error as Error).message}\n`);
      }
    }
  }

  async close(): Promise<void> {
    // A run that never reported its end (gitwatch is stopping) must not keep its view up.
    for (const repo of [...this.runs.keys()]) this.endRun(repo, undefined);
    this.queued.clear();
    this.closing = true;
    this.changed();
    await this.painter;
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
