// One frame of the terminal's live view: every running run side by side (listr2 tasks run concurrently),
// then the runs that wait for their turn, each `queued (behind api)` with listr2's mark of a task still to
// come. A frame is drawn until what it shows changes; then it is erased, and the next one is drawn from
// what is known by then (see tty-reporter.ts).

import type { Writable } from 'node:stream';
import { Listr, ListrDefaultRendererLogLevels, ListrLogger, PRESET_TIMER, ProcessOutput, type LoggerFormat } from 'listr2';
import { shortSha } from '../domain.js';
import type { FrameSpan, FrameTask, LiveRun } from './tty-run.js';

export interface QueuedRun {
  readonly repo: string;
  readonly commit: string;
  /** `behind api`, `group deploy: api`. */
  readonly waitingFor: string;
}

export interface FrameOptions {
  readonly out: Writable;
  readonly err: Writable;
  readonly color: boolean;
  /** The most of a running step's latest lines on screen. */
  readonly outputLines: number;
}

/** Draws `runs` and `queued` until `over` resolves, then erases them. */
export async function drawFrame(runs: readonly LiveRun[], queued: readonly QueuedRun[], over: Promise<void>, options: FrameOptions): Promise<void> {
  const shown = queuedRows(runs, queued, options);
  const span: FrameSpan = { outputBar: outputBar(runs, shown.length, options), over };
  // Once the frame is over its tasks end at once, and would be drawn as ended (a step still running marked
  // ✔) before the frame is erased. A first task without a title, started once the renderer listens, stops
  // every drawing at that moment, before any other task hears of it (listr2 draws on its events; the
  // spinner's next tick comes after the erase).
  const stopDrawing: FrameTask = {
    task: async () => {
      await over;
      list.events.complete();
    },
  };
  const tasks = [stopDrawing, ...runs.map((run) => run.task(span))];
  if (shown.length > 0) tasks.push(queuedTask(shown, span));
  const list = new Listr<unknown, 'default', 'simple'>(tasks, {
    renderer: 'default',
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    rendererOptions: {
      clearOutput: true,
      collapseSubtasks: false,
      formatOutput: 'truncate',
      // A job waiting for its needs is shown paused (tty-run.ts), with no time left to count down.
      pausedTimer: { ...PRESET_TIMER, condition: false },
      ...(options.color ? {} : { color: noColors() }),
      // Writes by others while a frame is up wait for it to be erased (listr2 holds them back).
      logger: new ListrLogger({
        useIcons: true,
        processOutput: new ProcessOutput(options.out as NodeJS.WriteStream, options.err as NodeJS.WriteStream, { leaveEmptyLine: false }),
      }),
    },
  });
  await list.run().catch(() => undefined);
}

/**
 * The queued runs, as tasks that never start while the frame is up (listr2's mark of a task still to
 * come): a first task without a title holds them back until the frame is over.
 */
function queuedTask(titles: readonly string[], span: FrameSpan): FrameTask {
  const rows: FrameTask[] = titles.map((title) => ({ title, task: () => undefined }));
  return { task: (_ctx, task) => task.newListr([{ task: () => span.over }, ...rows], { concurrent: false, exitOnError: false }) };
}

/** The terminal's rows, less one for the cursor; undefined when it does not say. */
function screenRows(options: FrameOptions): number | undefined {
  const rows = (options.out as Partial<NodeJS.WriteStream>).rows;
  return rows === undefined || rows <= 0 ? undefined : rows - 1;
}

/**
 * A line per queued run, as many as fit under the runs and their steps' latest lines (which come first: they
 * show what happens); then one line that says how many more wait.
 */
function queuedRows(runs: readonly LiveRun[], queued: readonly QueuedRun[], options: FrameOptions): string[] {
  const lines = queued.map((q) => `${q.repo} ${shortSha(q.commit)} queued (${q.waitingFor})`);
  const rows = screenRows(options);
  if (rows === undefined) return lines;
  const room = Math.max(1, rows - runs.reduce((sum, run) => sum + run.rows + run.running * options.outputLines, 0));
  if (lines.length <= room) return lines;
  const fit = Math.max(0, room - 1);
  return [...lines.slice(0, fit), `${lines.length - fit} more queued`];
}

/** A step's lines on screen: as many as fit the terminal's rows once every run's title and steps are drawn. */
function outputBar(runs: readonly LiveRun[], queuedRows: number, options: FrameOptions): number {
  const rows = screenRows(options);
  if (rows === undefined) return options.outputLines;
  const fixed = runs.reduce((sum, run) => sum + run.rows, 0) + queuedRows;
  const running = runs.reduce((sum, run) => sum + run.running, 0);
  // A run never shows fewer than one line of its step.
  const share = Math.floor((rows - fixed) / Math.max(1, running));
  return Math.min(options.outputLines, Math.max(1, share));
}

/** --no-color: every mark listr2 draws, as plain text. */
function noColors(): Record<ListrDefaultRendererLogLevels, LoggerFormat> {
  const plain = (s?: string): string => s ?? '';
  return Object.fromEntries(Object.values(ListrDefaultRendererLogLevels).map((level) => [level, plain])) as Record<ListrDefaultRendererLogLevels, LoggerFormat>;
}
