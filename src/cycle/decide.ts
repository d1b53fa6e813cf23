// What a cycle does with a repo once it knows the remote's head: the rules docs/cycle.md and docs/jobs.md describe, as one pure function.

import { MAX_RETRY_BACKOFF_MS, type RepoConfig } from '../config/types.js';
import type { RunReason } from '../domain.js';
import type { RemoteHead } from '../git/client.js';
import { compareTags } from '../git/ref-select.js';
import type { RepoState } from '../state/state-file.js';

export type { RunReason };

export type Decision =
  | { readonly action: 'up-to-date' }
  /** `retryAt`: a retry of the failed head is due then (ms since the epoch). */
  | { readonly action: 'wait'; readonly reason: string; readonly retryAt?: number | undefined }
  /** The lock's tag vanished and only older tags match: the lock stays where it is. */
  | { readonly action: 'hold'; readonly reason: string }
  | { readonly action: 'run'; readonly reason: RunReason; readonly attempt: number };

export function decide(repo: RepoConfig, head: RemoteHead, entry: RepoState | undefined, trigger = false, now = Date.now()): Decision {
  if (trigger) return { action: 'run', reason: 'trigger', attempt: 1 };
  if (entry === undefined || (entry.commit === undefined && entry.lastRun === undefined)) return { action: 'run', reason: 'first', attempt: 1 };
  const last = entry.lastRun;
  // Checked before a url or branch change: a head that failed after the change must not run every cycle.
  if (last?.commit === head.sha && last.status === 'failed') {
    const retryAt = retryDueAt(repo, entry);
    if (retryAt === undefined) return { action: 'wait', reason: `failed before; waits for a new commit or 'gitwatch trigger ${repo.name}'` };
    const attempt = (last.attempt ?? 1) + 1;
    if (now >= retryAt) return { action: 'run', reason: 'retry', attempt };
    return { action: 'wait', reason: `failed before; try ${attempt} of ${(repo.retry?.attempts ?? 0) + 1} at ${new Date(retryAt).toISOString()}`, retryAt };
  }
  // Following a tag, the lock has no branch; a switch between a branch and a tag counts as a move.
  const branch = head.tag === undefined && head.branch !== '' ? head.branch : undefined;
  const moved = entry.commit !== undefined && (entry.url !== repo.displayUrl || entry.branch !== branch);
  if (moved) return { action: 'run', reason: 'moved', attempt: 1 };
  if (entry.commit === head.sha) return { action: 'up-to-date' };
  const gone = entry.tag !== undefined && head.tag !== undefined && head.matching !== undefined && !head.matching.includes(entry.tag);
  if (gone && compareTags(head.tag ?? '', entry.tag ?? '') < 0) {
    return { action: 'hold', reason: `tag '${entry.tag ?? ''}' is gone from the remote; the lock keeps its commit until a tag above it appears` };
  }
  if (last?.commit === head.sha && last.status === 'interrupted') return { action: 'run', reason: 'retry-interrupted', attempt: last.attempt ?? 1 };
  return { action: 'run', reason: entry.commit === undefined ? 'first' : 'new-commit', attempt: 1 };
}

/** The wait before try `attempt + 1`: `backoff`, doubled after each try, at most an hour. */
export function retryWaitMs(backoffMs: number, attempt: number): number {
  return Math.min(backoffMs * 2 ** Math.min(attempt - 1, 30), MAX_RETRY_BACKOFF_MS);
}

/**
 * When the failed last run of a repo with `retry` is due to run again, if it is: tries are left and it was
 * not canceled (a person stopped it; they can `trigger` it).
 */
export function retryDueAt(repo: Pick<RepoConfig, 'retry'>, entry: RepoState | undefined): number | undefined {
  const last = entry?.lastRun;
  if (repo.retry === undefined || last === undefined || last.status !== 'failed' || last.error === 'canceled') return undefined;
  const attempt = last.attempt ?? 1;
  if (attempt > repo.retry.attempts) return undefined;
  const finished = Date.parse(last.finishedAt);
  return (Number.isNaN(finished) ? 0 : finished) + retryWaitMs(repo.retry.backoffMs, attempt);
}
