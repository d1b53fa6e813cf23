// Time, injected: the real clock in production, a fake one in tests of scheduling.

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sleeps this long or longer end on the next whole second of the wall clock, up to COALESCE_MS late, and all
 * those ending on the same second share one timer. A daemon watching 1,000 repos at a 60 s interval then
 * wakes about once a second for a batch of checks instead of 17 times a second for one each: each wake-up of
 * an idle process costs a quarter of a millisecond before any check runs (`npm run bench`, the daemon case).
 * Shorter sleeps (debounces, retries of a second, test intervals) stay exact.
 */
export const COALESCE_FROM_MS = 10_000;
export const COALESCE_MS = 1_000;

interface Slot {
  readonly timer: NodeJS.Timeout;
  readonly waiters: Set<() => void>;
}

const slots = new Map<number, Slot>();

function coalesced(ms: number, resolve: () => void, signal: AbortSignal | undefined): void {
  const at = Math.ceil((Date.now() + ms) / COALESCE_MS) * COALESCE_MS;
  let slot = slots.get(at);
  if (slot === undefined) {
    const waiters = new Set<() => void>();
    const timer = setTimeout(() => {
      slots.delete(at);
      for (const wake of waiters) wake();
    }, at - Date.now());
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
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      if (ms >= COALESCE_FROM_MS && ms <= MAX_TIMER_MS - COALESCE_MS) return coalesced(ms, resolve, signal);
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
    }),
};
