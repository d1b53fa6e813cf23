// Defaults that depend on the machine.

import { availableParallelism } from 'node:os';

/**
 * Remote checks mostly wait on the network, so many per core: with 100 remotes 50 ms away, 16 at once took
 * 1.1 s a cycle and 32 about half that. Local remotes are CPU-bound and gain nothing past the core count,
 * but lose little either: the extra processes just queue.
 */
export function defaultConcurrency(): number {
  return Math.min(64, Math.max(16, availableParallelism() * 16));
}
