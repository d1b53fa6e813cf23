// One run on a terminal, live: a listr2 task for the repo whose subtasks are its steps. The pipeline's
// events settle the step tasks; listr2 only draws. Every task can settle from what is known at the run's
// end, so an interrupted run (which sends no event for the steps it never reached) never leaves the
// renderer waiting.

import type { Writable } from 'node:stream';
import {
  Listr,
  ListrDefaultRendererLogLevels,
  ListrLogger,
  PRESET_TIMER,
  ProcessOutput,
  type ListrDefaultRenderer,
  type ListrSimpleRenderer,
  type ListrTask,
  type ListrTaskWrapper,
  type LoggerFormat,
} from 'listr2';
import { formatDuration } from '../rules/duration.js';
import type { GitwatchEvent } from './events.js';
import { followedRef, runTitle } from './run-words.js';
import type { RunEnd, RunView, StepView } from './tty-summary.js';

export interface LiveRunOptions {
  readonly out: Writable;
  readonly err: Writable;
  /** How many of the running step's latest lines are on screen. */
  readonly outputLines: number;
  /** Keep every output line for the summary (--verbose). */
  readonly keepLines: boolean;
  readonly color: boolean;
}

type StepTask = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

export class LiveRun {
  readonly view: RunView & { steps: StepView[] };
  private readonly settled: Deferred[];
  private readonly started: Deferred[];
  private readonly tasks = new Map<number, StepTask>();
  private readonly ended = deferred();
  private readonly title: string;
  private readonly jobs: Extract<GitwatchEvent, { type: 'run-started' }>['jobs'];

  constructor(
    start: Extract<GitwatchEvent, { type: 'run-started' }>,
    private readonly options: LiveRunOptions,
  ) {
    this.view = {
      repo: start.repo,
      commit: start.commit,
      ref: followedRef(start),
      steps: start.steps.map((name) => ({ name, state: 'waiting', tail: [], lines: [] })),
    };
    this.settled = this.view.steps.map(() => deferred());
    this.started = this.view.steps.map(() => deferred());
    this.jobs = start.jobs;
    this.title = runTitle(start);
  }

  get repo(): string {
    return this.view.repo;
  }

  /** Resolves when the run is over, reported or not. */
  get finished(): Promise<void> {
    return this.ended.promise;
  }

  stepStarted(index: number): void {
    const step = this.view.steps[index];
    if (step === undefined) return;
    step.state = 'running';
    this.started[index]?.resolve();
  }

  output(index: number, line: string): void {
    const step = this.view.steps[index];
    if (step === undefined) return;
    step.lines.push(line);
    if (!this.options.keepLines && step.lines.length > this.options.outputLines) step.lines.shift();
    const task = this.tasks.get(index);
    if (task) task.output = line;
  }

  stepFinished(e: Extract<GitwatchEvent, { type: 'step-finished' }>): void {
    const step = this.view.steps[e.index];
    if (step === undefined) return;
    step.state = e.status === 'succeeded' ? 'succeeded' : e.ignored ? 'ignored' : e.status === 'interrupted' ? 'interrupted' : 'failed';
    step.durationMs = e.durationMs;
    step.error = e.error;
    step.tail = e.tail;
    this.settled[e.index]?.resolve();
  }

  stepSkipped(index: number): void {
    const step = this.view.steps[index];
    if (step === undefined) return;
    step.state = 'skipped';
    this.settled[index]?.resolve();
  }

  /** The run is over: whatever did not report is settled as not reached. `end` is unset on shutdown. */
  finish(end: RunEnd | undefined): void {
    this.view.end = end;
    for (const [index, step] of this.view.steps.entries()) {
      if (step.state === 'waiting') step.state = 'skipped';
      this.settled[index]?.resolve();
    }
    this.ended.resolve();
  }

  /** Draws the run until it is finished, then erases it: the summary is what stays. */
  async show(): Promise<void> {
    const { out, err } = this.options;
    const stepTask = (index: number, title: string): ListrTask<unknown, ListrDefaultRenderer, ListrSimpleRenderer> => ({
      title,
      rendererOptions: { outputBar: this.options.outputLines, persistentOutput: false },
      task: (_ctx, task) => this.stepTask(index, title, task),
    });
    // A run of jobs: each job is a group of its steps, and the groups run side by side as the jobs do.
    const steps: ListrTask<unknown, ListrDefaultRenderer, ListrSimpleRenderer>[] =
      this.jobs === undefined
        ? this.view.steps.map((step, index) => stepTask(index, step.name))
        : this.jobs.map((job) => ({
            title: job.name,
            task: async (_c, jobTask) => {
              void this.jobSettled(job.steps).then((state) => {
                if (state === 'skipped') jobTask.title = `${job.name} (skipped)`;
              });
              // A job waiting for its needs shows what it waits for, and its steps only once it starts.
              if (job.needs.length > 0) jobTask.title = `${job.name} (needs ${job.needs.join(', ')})`;
              await Promise.race([this.jobStarted(job.steps), this.jobSettled(job.steps)]);
              jobTask.title = job.name;
              return jobTask.newListr(
                job.steps.map((index) => stepTask(index, (this.view.steps[index]?.name ?? '').slice(job.name.length + 1))),
                { concurrent: false, exitOnError: false },
              );
            },
          }));
    // A last subtask without a title keeps the view up until the run's result is recorded.
    steps.push({ task: () => this.ended.promise });
    const list = new Listr<unknown, 'default', 'simple'>(
      [{ title: this.title, task: (_ctx, task) => task.newListr(steps, { concurrent: this.jobs !== undefined, exitOnError: false }) }],
      {
        renderer: 'default',
        exitOnError: false,
        registerSignalListeners: false,
        rendererOptions: {
          clearOutput: true,
          collapseSubtasks: false,
          formatOutput: 'truncate',
          timer: this.options.color
            ? PRESET_TIMER
            : {
                ...PRESET_TIMER,
                format:
                  () =>
                  (s?: string): string =>
                    s ?? '',
              },
          ...(this.options.color ? {} : { color: noColors() }),
          // Writes by the rest of gitwatch (a signal's notice on stderr) wait until the view is erased.
          logger: new ListrLogger({
            useIcons: true,
            processOutput: new ProcessOutput(out as NodeJS.WriteStream, err as NodeJS.WriteStream, { leaveEmptyLine: false }),
          }),
        },
      },
    );
    await list.run().catch(() => undefined);
  }

  /** Resolves when the first of the job's steps starts. */
  private jobStarted(steps: readonly number[]): Promise<void> {
    return Promise.race(steps.map((index) => this.started[index]?.promise ?? new Promise<void>(() => undefined)));
  }

  /** How a job's steps ended, once they all have: `skipped` when none of them ran. */
  private async jobSettled(steps: readonly number[]): Promise<'ran' | 'skipped'> {
    await Promise.all(steps.map((index) => this.settled[index]?.promise ?? Promise.resolve()));
    return steps.every((index) => this.view.steps[index]?.state === 'skipped') ? 'skipped' : 'ran';
  }

  private async stepTask(index: number, name: string, task: StepTask): Promise<void> {
    const step = this.view.steps[index];
    if (step === undefined) return;
    this.tasks.set(index, task);
    // Lines that came before listr2 started this task.
    for (const line of step.lines.slice(-this.options.outputLines)) task.output = line;
    const started = Date.now();
    const tick = setInterval(() => {
      if (step.state === 'running') task.title = `${name} (${formatDuration(Math.floor((Date.now() - started) / 1000) * 1000)})`;
    }, 1000);
    try {
      await this.settled[index]?.promise;
    } finally {
      clearInterval(tick);
      this.tasks.delete(index);
    }
    task.title = name;
    switch (step.state) {
      case 'succeeded':
        return;
      case 'ignored':
        task.title = `${name} (failed, continue_on_error: ${step.error ?? ''})`;
        return;
      case 'skipped':
      case 'waiting':
        task.skip(`${name} (not reached)`);
        return;
      case 'failed':
      case 'interrupted':
      case 'running':
        throw new Error(step.error ?? `step '${name}' did not finish`);
    }
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

// Promise.withResolvers arrives in Node 22; gitwatch supports Node 20.
function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** --no-color: every mark listr2 draws, as plain text. */
function noColors(): Record<ListrDefaultRendererLogLevels, LoggerFormat> {
  const plain = (s?: string): string => s ?? '';
  return Object.fromEntries(Object.values(ListrDefaultRendererLogLevels).map((level) => [level, plain])) as Record<ListrDefaultRendererLogLevels, LoggerFormat>;
}
