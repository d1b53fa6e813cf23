// Output on a terminal: listr2 shows each repo's run with a spinner per step, its duration and the last
// lines of its output. listr2 drives the display; the pipeline's events settle its tasks.

import type { Writable } from 'node:stream';
import { Listr, PRESET_TIMER, type ListrTask } from 'listr2';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';
import { daemonLine } from './line-reporter.js';

type StepOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'fail'; readonly error: string }
  | { readonly kind: 'skip' }
  | { readonly kind: 'ignored'; readonly error: string };

interface ActiveRun {
  output: (line: string) => void;
  readonly outcomes: Map<number, StepOutcome>;
  readonly waiters: Map<number, (o: StepOutcome) => void>;
  readonly finished: (error: string | undefined) => void;
}

export interface TtyReporterOptions {
  readonly out: Writable;
  /** Diagnostics: a rejected config's problems. */
  readonly err: Writable;
  readonly quiet: boolean;
  readonly color: boolean;
}

const short = (sha: string): string => sha.slice(0, 12);

export class TtyReporter implements Reporter {
  private queue: Promise<void> = Promise.resolve();
  private readonly runs = new Map<string, ActiveRun>();

  constructor(private readonly options: TtyReporterOptions) {}

  emit(e: GitwatchEvent | DaemonEvent): void {
    switch (e.type) {
      case 'check-failed':
        return this.show(e.repo, `check failed: ${e.error}`, false);
      case 'up-to-date':
        return this.options.quiet ? undefined : this.show(e.repo, `up to date at ${short(e.commit)}`, true);
      case 'waiting':
        return this.options.quiet ? undefined : this.show(e.repo, `${short(e.commit)} ${e.reason}`, true);
      case 'run-started':
        return this.startRun(e.repo, `${e.repo} ${short(e.commit)} on ${e.branch}`, e.steps);
      case 'step-started':
        return;
      case 'step-output':
        return this.runs.get(e.repo)?.output(e.line);
      case 'step-finished': {
        const outcome: StepOutcome =
          e.status === 'succeeded'
            ? { kind: 'ok' }
            : e.ignored
              ? { kind: 'ignored', error: e.error ?? e.status }
              : { kind: 'fail', error: e.error ?? e.status };
        return this.settle(e.repo, e.index, outcome);
      }
      case 'step-skipped':
        return this.settle(e.repo, e.index, { kind: 'skip' });
      case 'run-finished': {
        const run = this.runs.get(e.repo);
        this.runs.delete(e.repo);
        const ok = e.status === 'succeeded' || e.status === 'skipped';
        return run?.finished(ok ? undefined : `${e.status}: ${e.error ?? ''}${e.log ? ` (log: ${e.log})` : ''}`);
      }
      case 'state-failed':
        return this.show(e.repo, `${e.status} ${short(e.commit)} not recorded: ${e.error} (it runs again on the next check)`, false);
      default:
        if (e.type === 'config-rejected') this.options.err.write(`${e.detail}\n`);
        for (const line of daemonLine(e, this.options.quiet)) this.enqueue([{ title: line, task: () => undefined }]);
    }
  }

  private settle(repo: string, index: number, outcome: StepOutcome): void {
    const run = this.runs.get(repo);
    if (!run) return;
    run.outcomes.set(index, outcome);
    run.waiters.get(index)?.(outcome);
  }

  private show(repo: string, title: string, ok: boolean): void {
    this.enqueue([
      {
        title: `${repo} ${title}`,
        task: () => {
          if (!ok) throw new Error(`${repo} ${title}`);
        },
      },
    ]);
  }

  private startRun(repo: string, title: string, steps: readonly string[]): void {
    let finished: (error: string | undefined) => void = () => undefined;
    const done = new Promise<string | undefined>((resolve) => (finished = resolve));
    const run: ActiveRun = { output: () => undefined, outcomes: new Map(), waiters: new Map(), finished };
    this.runs.set(repo, run);
    const stepTasks: ListrTask[] = steps.map((name, index) => ({
      title: name,
      rendererOptions: { outputBar: 5, persistentOutput: false },
      task: async (_ctx, task) => {
        // Output lines go to whichever step listr2 is showing now.
        run.output = (line: string) => (task.output = line);
        const outcome = run.outcomes.get(index) ?? (await new Promise<StepOutcome>((resolve) => run.waiters.set(index, resolve)));
        switch (outcome.kind) {
          case 'ok':
            return;
          case 'skip':
            task.skip(`${name} (skipped)`);
            return;
          case 'ignored':
            task.title = `${name} (failed, continue_on_error: ${outcome.error})`;
            return;
          case 'fail':
            throw new Error(outcome.error);
        }
      },
    }));
    this.enqueue([
      {
        title,
        task: async (_ctx, task) => {
          const list = task.newListr(stepTasks, { concurrent: false, exitOnError: false });
          await list.run();
          const error = await done;
          if (error !== undefined) throw new Error(`${repo} ${error}`);
        },
      },
    ]);
  }

  private enqueue(tasks: ListrTask[]): void {
    const list = new Listr(tasks, {
      renderer: 'default',
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: false, collapseErrors: false },
    });
    this.queue = this.queue
      .then(() => list.run())
      .then(
        () => undefined,
        () => undefined,
      );
  }

  async close(): Promise<void> {
    await this.queue;
  }
}
