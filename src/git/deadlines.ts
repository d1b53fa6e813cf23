// The time limits of in-process HTTP checks, kept by one sleep for all of them. An AbortController and a
// sleep of its own for each check, and the abort signal handed to each request, cost more CPU than reading
// most answers; here a check is an entry in a set, and the sleep wakes only when the earliest one is due.

import type { Clock } from '../runtime/clock.js';

/** One check's limit: `stop` ends whatever it is waiting on; `ended` says why, once it has. */
export class Deadline {
  ended: 'timeout' | 'aborted' | undefined;
  private stopCurrent: ((error: Error) => void) | undefined;

  constructor(
    readonly at: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** What ends the current wait (a request) when the limit passes or the check is stopped. */
  watch(stop: ((error: Error) => void) | undefined): void {
    this.stopCurrent = stop;
  }

  end(why: 'timeout' | 'aborted'): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    this.stopCurrent?.(new Error(why === 'timeout' ? 'the check timed out' : 'the check was stopped'));
  }
}

/** The abort reason of a sleep no longer needed: a reason of its own spares the DOMException a bare abort() builds. */
const DISARMED = Symbol('disarmed');

export class Deadlines {
  private readonly pending = new Set<Deadline>();
  /** Signals listened to: one listener each, since adding one to a signal costs a walk of those it has. */
  private readonly watched = new WeakSet<AbortSignal>();
  private wake: AbortController | undefined;
  private wakeAt = Infinity;

  constructor(private readonly clock: Clock) {}

  /** A limit `ms` from now, also ended by `signal`; `done` must be called when the check ends. */
  start(ms: number, signal: AbortSignal | undefined): { deadline: Deadline; done: () => void } {
    const deadline = new Deadline(this.clock.now().getTime() + ms, signal);
    if (signal?.aborted) deadline.end('aborted');
    else if (signal !== undefined && !this.watched.has(signal)) {
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.pending.forEach((d) => d.signal === signal && d.end('aborted')), { once: true });
    }
    this.pending.add(deadline);
    if (deadline.at < this.wakeAt) this.arm(deadline.at);
    const done = (): void => {
      this.pending.delete(deadline);
      // Nothing left to time: the sleep must not hold the process open.
      if (this.pending.size === 0) this.disarm();
    };
    return { deadline, done };
  }

  private arm(at: number): void {
    this.disarm();
    const wake = new AbortController();
    this.wake = wake;
    this.wakeAt = at;
    void this.clock.sleep(Math.max(0, at - this.clock.now().getTime()), wake.signal).then(() => {
      if (wake.signal.aborted) return;
      this.wake = undefined;
      this.wakeAt = Infinity;
      const now = this.clock.now().getTime();
      let next = Infinity;
      for (const deadline of this.pending) {
        if (deadline.at <= now) {
          this.pending.delete(deadline);
          deadline.end('timeout');
        } else {
          next = Math.min(next, deadline.at);
        }
      }
      if (next < Infinity) this.arm(next);
    });
  }

  private disarm(): void {
    this.wake?.abort(DISARMED);
    this.wake = undefined;
    this.wakeAt = Infinity;
  }
}
