// What each repo's pipeline does right now, learnt from the events on their way to the reporter, so the
// daemon's `status` shows the running step and for how long.

import type { Clock } from './clock.js';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';

export interface RunningStep {
  readonly step: string;
  readonly startedAt: Date;
}

export class Activity implements Reporter {
  private readonly steps = new Map<string, RunningStep>();

  constructor(
    private readonly inner: Reporter,
    private readonly clock: Clock,
  ) {}

  emit(event: GitwatchEvent | DaemonEvent): void {
    if (event.type === 'step-started') this.steps.set(event.repo, { step: event.step, startedAt: this.clock.now() });
    else if (event.type === 'step-finished' || event.type === 'run-finished') this.steps.delete(event.repo);
    this.inner.emit(event);
  }

  backlog(): Promise<void> | undefined {
    return this.inner.backlog?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  running(repo: string): RunningStep | undefined {
    return this.steps.get(repo);
  }
}
