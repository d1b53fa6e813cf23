// What each repo's pipeline does right now, learnt from the events on their way to the reporter, so the
// daemon's `status` shows the running run and step and for how long (and `plan` knows what runs already),
// and a shutdown says which steps it waits for.

import type { Clock } from './clock.js';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';

export interface RunningStep {
  readonly step: string;
  readonly startedAt: Date;
}

/** A run in progress: its commit, and when it started. */
export interface RunningRun {
  readonly commit: string;
  readonly startedAt: Date;
}

export class Activity implements Reporter {
  private readonly runs = new Map<string, RunningRun>();
  /** Per repo, the steps running now by index: jobs of one repo run side by side. */
  private readonly steps = new Map<string, Map<number, RunningStep>>();

  constructor(
    private readonly inner: Reporter,
    private readonly clock: Clock,
  ) {}

  emit(event: GitwatchEvent | DaemonEvent): void {
    if (event.type === 'run-started') this.runs.set(event.repo, { commit: event.commit, startedAt: this.clock.now() });
    else if (event.type === 'step-started') {
      const running = this.steps.get(event.repo) ?? new Map<number, RunningStep>();
      running.set(event.index, { step: event.step, startedAt: this.clock.now() });
      this.steps.set(event.repo, running);
    } else if (event.type === 'step-finished') this.steps.get(event.repo)?.delete(event.index);
    else if (event.type === 'run-finished') {
      this.steps.delete(event.repo);
      this.runs.delete(event.repo);
    }
    this.inner.emit(event);
  }

  backlog(): Promise<void> | undefined {
    return this.inner.backlog?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The run in progress, from its start until its result is reported. */
  run(repo: string): RunningRun | undefined {
    return this.runs.get(repo);
  }

  /** Every step running now, as `repo/step`, the longest-running first: what a shutdown waits for. */
  allRunning(): string[] {
    const all = [...this.steps.entries()].flatMap(([repo, steps]) =>
      [...steps.values()].map((s) => ({ name: `${repo}/${s.step}`, at: s.startedAt.getTime() })),
    );
    return all.sort((a, b) => a.at - b.at).map((s) => s.name);
  }

  /** The running step; with several (parallel jobs), their names together, since the first one started. */
  running(repo: string): RunningStep | undefined {
    const running = [...(this.steps.get(repo)?.values() ?? [])].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
    const first = running[0];
    if (first === undefined) return undefined;
    return running.length === 1 ? first : { step: running.map((r) => r.step).join(', '), startedAt: first.startedAt };
  }
}
