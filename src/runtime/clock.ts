// Time, injected: the real clock in production, a fake one in tests of scheduling.

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sleeps of 10 s or more end on the next whole second of a monotonic clock, up to a second late, and all
 * those ending on the same second share one timer. A daemon watching 1,000 repos at a 60 s interval then
 * wakes about once a second for a batch of checks instead of 17 times a second for one each: each wake-up of
 * an idle process costs a quarter of a millisecond before any check runs (docs/performance.md). Shorter
 * sleeps (debounces, retries of a second, test intervals) stay exact. Monotonic, not the wall clock: a
 * clock stepped back must not make a new sleep join a slot armed before the step, which would end it early.
 */
export const COALESCE_FROM_MS = 10_000;
export const COALESCE_MS = 1_000;

interface Slot {
  readonly timer: NodeJS.Timeout;
  readonly waiters: Set<() => void>;
}

/** Sleeps with a slack: those of `fromMs` or more end on the next multiple of `stepMs` of `now()`. */
export function coalescingSleep(fromMs: number, stepMs: number, now: () => number = () => performance.now()): Clock['sleep'] {
  const slots = new Map<number, Slot>();
  const coalesced = (ms: number, resolve: () => void, signal: AbortSignal | undefined): void => {
    const at = Math.ceil((now() + ms) / stepMs) * stepMs;
    let slot = slots.get(at);
    if (slot === undefined) {
      const waiters = new Set<() => void>();
      const timer = setTimeout(
        () => {
          slots.delete(at);
          for (const wake of waiters) wake();
        },
        Math.max(0, at - now()),
      );
      slot = { timer, waiters };
      slots.set(at, slot);
    }
    const { waiters, timer } = slot;
    const done = (): void => {
      waiters.delete(done);
      signal?.removeEventListener('abort', done);
      // A slot nobody waits for any more must not hold the process open until it fires.
      if (waiters.size === 0 && slots.get(at)?.timer === timer) {
        clearTimeout(timer);
        slots.delete(at);
      }
      resolve();
    };
    waiters.add(done);
    signal?.addEventListener('abort', done, { once: true });
  };
  return (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      if (ms >= fromMs && ms <= MAX_TIMER_MS - stepMs) return coalesced(ms, resolve, signal);
      // setTimeout takes at most 2^31-1 ms and fires at once past that; longer sleeps go in steps.
      const until = Date.now() + ms;
      let timer = setTimeout(step, Math.min(ms, MAX_TIMER_MS));
      function step(): void {
        const left = until - Date.now();
        if (left > 0) timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
        else done();
      }
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: coalescingSleep(COALESCE_FROM_MS, COALESCE_MS),
};
