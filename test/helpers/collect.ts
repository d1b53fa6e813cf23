// A reporter that keeps events for assertions.

import type { DaemonEvent, GitwatchEvent, Reporter } from '../../src/runtime/events.js';

export class CollectingReporter implements Reporter {
  readonly events: (GitwatchEvent | DaemonEvent)[] = [];
  emit(event: GitwatchEvent | DaemonEvent): void {
    this.events.push(event);
  }
  of<T extends (GitwatchEvent | DaemonEvent)['type']>(type: T): Extract<GitwatchEvent | DaemonEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<GitwatchEvent | DaemonEvent, { type: T }> => e.type === type);
  }
  async close(): Promise<void> {}
}
