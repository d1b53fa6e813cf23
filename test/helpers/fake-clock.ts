// A clock tests move by hand: sleeps resolve only when advance() passes their deadline.

import type { Clock } from '../../src/runtime/clock.js';

interface Sleeper {
  readonly at: number;
  readonly wake: () => void;
}

export class FakeClock implements Clock {
  private t = Date.parse('2026-01-01T00:00:00.000Z');
  private sleepers: Sleeper[] = [];

  now(): Date {
    return new Date(this.t);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        at: this.t + ms,
        wake: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** Sleepers waiting now: lets a test wait until the code under test has gone to sleep. */
  get pending(): number {
    return this.sleepers.length;
  }

  advance(ms: number): void {
    this.t += ms;
    for (const s of this.sleepers.filter((x) => x.at <= this.t)) s.wake();
  }
}
