// Defaults that depend on the machine.

import { availableParallelism } from 'node:os';

/** Remote checks mostly wait on the network, so several per core. */
export function defaultConcurrency(): number {
  return Math.min(64, Math.max(8, availableParallelism() * 8));
}
