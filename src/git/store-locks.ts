// The stale lock files of a store, swept before its first use.

import { rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Lock files a git killed mid-command leaves in the store (index.lock, shallow.lock, a ref's .lock) make
 * every later command fail with "File exists". Only gitwatch writes its stores, and the gitwatch that
 * holds the instance lock is the only one running, so on first use any lock there is stale.
 */
export async function sweepStaleLocks(store: string, refs: readonly string[]): Promise<void> {
  const candidates = ['index.lock', 'shallow.lock', 'HEAD.lock', 'config.lock', 'packed-refs.lock', ...refs.map((ref) => `${ref}.lock`)];
  await Promise.all(candidates.map((name) => rm(path.join(store, name), { force: true })));
}
