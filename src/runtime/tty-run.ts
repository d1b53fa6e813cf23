// One run on a terminal: what is known of it (from the pipeline's events) and the listr2 tasks that draw it
// in a frame (see tty-frame.ts). Frames come and go while the run goes on (another run starts, a line is
// printed above them), so a run's tasks are made anew for each frame from what is known then: a finished
// step shows its own duration, a running one its start, its latest lines and a spinner. Every task ends
// when its frame is over, so taking a frame down never waits for a step.

import {
  ListrTaskState,
  PRESET_TIMER,
  type ListrDefaultRenderer,
  type ListrSimpleRenderer,
  type ListrTask,
  type ListrTaskWrapper,
  type PresetTimer,
} from 'listr2';
import { formatDuration } from '../rules/duration.js';
import type { GitwatchEvent } from './events.js';
import { followedRef, runTitle } from './run-words.js';
import type { RunEnd, RunView, StepView } from './tty-summary.js';

export interface LiveRunOptions {
  /** Keep every output line for the summary (--verbose). */
  readonly keepLines: boolean;
  /** At most this many of a step's latest lines are ever on screen. */
  readonly outputLines: number;
  readonly color: boolean;
}

/** What a frame gives the tasks it draws. */
export interface FrameSpan {
  /** How many of a running step's latest lines this frame shows. */
  readonly outputBar: number;
  /** Resolves when the frame is taken down: every task then ends at once, whatever its step does. */
  readonly over: Promise<void>;
}

export type FrameTask = ListrTask<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;
type StepTask = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;
type Job = NonNullable<Extract<GitwatchEvent, { type: 'run-started' }>['jobs']>[number];

interface LiveStep extends StepView {
  /** When the step started (Date.now()), for its running time in every frame. */
  startedAt?: number | undefined;
}

export class LiveRun {
  readonly view: RunView & { steps: LiveStep[] };
  private readonly settled: Deferred[];
  private readonly started: Deferred[];
  /** The task that draws each running step in the current frame: its output lines go there. */
  private readonly tasks = new Map<number, StepTask>();
  private readonly title: string;
  private readonly jobs: readonly Job[] | undefined;

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

  /** How many steps run now (at least one): a frame shares the screen's rows among them. */
  get running(): number {
    return Math.max(1, this.view.steps.filter((s) => s.state === 'running').length);
  }

  /** The rows the run takes without its output lines: its title, its steps, and its jobs' titles. */
  get rows(): number {
    return 1 + this.view.steps.length + (this.jobs?.length ?? 0);
  }

  stepStarted(index: number): void {
    const step = this.view.steps[index];
    if (step === undefined) return;
    step.state = 'running';
    step.startedAt = Date.now();
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
  }

  /** The run as one task of a frame: its steps under it, or its jobs side by side, each with its steps. */
  task(span: FrameSpan): FrameTask {
    const children: FrameTask[] =
      this.jobs === undefined ? this.view.steps.map((step, index) => this.stepTask(index, step.name, span)) : this.jobs.map((job) => this.jobTask(job, span));
    // A last subtask without a title keeps the run on screen, all its steps done, until the frame ends.
    children.push({ task: () => span.over });
    return {
      title: this.title,
      task: (_ctx, task) => task.newListr(children, { concurrent: this.jobs !== undefined, exitOnError: false }),
    };
  }

  private jobTask(job: Job, span: FrameSpan): FrameTask {
    const begun = job.steps.some((index) => this.view.steps[index]?.state !== 'waiting');
    return {
      // A job waiting for its needs says what it waits for, and shows its steps only once it starts.
      title: begun || job.needs.length === 0 ? job.name : `${job.name} (needs ${job.needs.join(', ')})`,
      rendererOptions: { timer: this.timer(() => this.jobDurationMs(job)) },
      task: async (_ctx, jobTask) => {
        // A job that waits for its needs is marked as a step that waits is (◼), not spun as running.
        if (!begun && job.needs.length > 0) jobTask.task.state$ = ListrTaskState.PAUSED;
        void this.jobSettled(job.steps).then((state) => {
          if (state === 'skipped') jobTask.title = `${job.name} (skipped)`;
        });
        const going = await Promise.race([
          this.jobStarted(job.steps).then(() => true),
          this.jobSettled(job.steps).then(() => true),
          span.over.then(() => false),
        ]);
        if (!going) return undefined;
        if (jobTask.task.isPaused()) jobTask.task.state$ = ListrTaskState.STARTED;
        jobTask.title = job.name;
        return jobTask.newListr(
          job.steps.map((index) => this.stepTask(index, (this.view.steps[index]?.name ?? '').slice(job.name.length + 1), span)),
          { concurrent: false, exitOnError: false },
        );
      },
    };
  }

  private stepTask(index: number, title: string, span: FrameSpan): FrameTask {
    return {
      title,
      rendererOptions: { outputBar: span.outputBar, persistentOutput: false, timer: this.timer(() => this.view.steps[index]?.durationMs ?? 0) },
      task: (_ctx, task) => this.drawStep(index, title, task, span),
    };
  }

  private async drawStep(index: number, name: string, task: StepTask, span: FrameSpan): Promise<void> {
    const step = this.view.steps[index];
    if (step === undefined) return;
    this.tasks.set(index, task);
    // The lines that came before this frame.
    for (const line of step.lines.slice(-span.outputBar)) task.output = line;
    const tick = (): void => {
      const ms = step.startedAt === undefined ? 0 : Date.now() - step.startedAt;
      if (step.state === 'running' && ms >= 1000) task.title = `${name} (${formatDuration(Math.floor(ms / 1000) * 1000)})`;
    };
    tick();
    const ticking = setInterval(tick, 1000);
    const settled = await Promise.race([this.settled[index]?.promise.then(() => true) ?? Promise.resolve(true), span.over.then(() => false)]);
    clearInterval(ticking);
    if (this.tasks.get(index) === task) this.tasks.delete(index);
    // The frame is over first: the step goes on, and the next frame draws it.
    if (!settled) return;
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

  /** A finished task's duration as listr2 shows it, from gitwatch's own times: a task of a later frame did not run that long. */
  private timer(ms: () => number): PresetTimer {
    const plain = (s?: string): string => s ?? '';
    // The same words as every other duration gitwatch prints (formatDuration), not listr2's own.
    return { ...PRESET_TIMER, field: () => formatDuration(ms()), ...(this.options.color ? {} : { format: () => plain }) };
  }

  /** From a job's first step's start to its last step's end: not its wait for its needs. */
  private jobDurationMs(job: Job): number {
    const ran = job.steps.flatMap((index) => {
      const step = this.view.steps[index];
      return step?.startedAt === undefined ? [] : [{ from: step.startedAt, to: step.startedAt + (step.durationMs ?? 0) }];
    });
    if (ran.length === 0) return 0;
    return Math.max(...ran.map((r) => r.to)) - Math.min(...ran.map((r) => r.from));
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
}

export interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

// Promise.withResolvers arrives in Node 22; gitwatch supports Node 20.
export function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
