// Time, injected: the real clock in production, a fake one in tests of scheduling.

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
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
