// What each repo's pipeline does right now, learnt from the events on their way to the reporter, so the
// daemon's `status` shows the running step and for how long.

import type { Clock } from './clock.js';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';

export interface RunningStep {
  readonly step: string;
  readonly startedAt: Date;
}

export class Activity implements Reporter {
  /** Per repo, the steps running now by index: jobs of one repo run side by side. */
  private readonly steps = new Map<string, Map<number, RunningStep>>();

  constructor(
    private readonly inner: Reporter,
    private readonly clock: Clock,
  ) {}

  emit(event: GitwatchEvent | DaemonEvent): void {
    if (event.type === 'step-started') {
      const running = this.steps.get(event.repo) ?? new Map<number, RunningStep>();
      running.set(event.index, { step: event.step, startedAt: this.clock.now() });
      this.steps.set(event.repo, running);
    } else if (event.type === 'step-finished') this.steps.get(event.repo)?.delete(event.index);
    else if (event.type === 'run-finished') this.steps.delete(event.repo);
    this.inner.emit(event);
  }

  backlog(): Promise<void> | undefined {
    return this.inner.backlog?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The running step; with several (parallel jobs), their names together, since the first one started. */
  running(repo: string): RunningStep | undefined {
    const running = [...(this.steps.get(repo)?.values() ?? [])].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
    const first = running[0];
    if (first === undefined) return undefined;
    return running.length === 1 ? first : { step: running.map((r) => r.step).join(', '), startedAt: first.startedAt };
  }
}
