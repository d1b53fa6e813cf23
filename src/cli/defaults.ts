// Defaults that depend on the machine.

import { availableParallelism } from 'node:os';

/** Remote checks are network-bound, so several per core. */
export function defaultConcurrency(): number {
  return Math.min(32, Math.max(4, availableParallelism() * 4));
}
