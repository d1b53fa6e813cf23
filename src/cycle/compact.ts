// Compaction of a repo's private git store. Every fetch leaves the previous commit's objects behind, so
// a store grows by each commit's size; `git gc --prune=now` packs it and drops what no ref reaches. The
// daemon runs it now and then, off the pipeline's path (supervisor.ts says when).

import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { storeDir } from '../domain.js';
import type { CycleDeps } from './turn.js';

/** Compact a store after this many fetches... */
export const COMPACT_AFTER_FETCHES = 20;
/** ...or when it has fetched at all and was last compacted this long ago. */
export const COMPACT_EVERY_MS = 24 * 60 * 60_000;
/** gc of a large store takes longer than a fetch; it is still stopped on shutdown. */
const COMPACT_TIMEOUT_MS = 30 * 60_000;

export async function compactStore(config: ResolvedConfig, repo: RepoConfig, deps: CycleDeps): Promise<void> {
  const store = storeDir(config.workdir, repo);
  const before = await folderSize(store);
  try {
    await deps.git.compact(store, { timeoutMs: COMPACT_TIMEOUT_MS, signal: deps.signal });
  } catch (error) {
    if (deps.signal?.aborted) return;
    deps.reporter.emit({ type: 'store-compacted', repo: repo.name, beforeBytes: before, afterBytes: before, error: (error as Error).message });
    return;
  }
  deps.reporter.emit({ type: 'store-compacted', repo: repo.name, beforeBytes: before, afterBytes: await folderSize(store) });
}

async function folderSize(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory()
      ? await folderSize(full)
      : await lstat(full).then(
          (s) => s.size,
          () => 0,
        );
  }
  return total;
}
