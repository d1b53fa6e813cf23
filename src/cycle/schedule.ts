// The two rules every path of gitwatch asks before and after a repo's turn, as pure functions: may this
// repo run now (and if not, why), and when to look at it again. `once`, the daemon's workers and `plan` all
// call these; nothing else decides either question.

import type { RepoConfig } from '../config/types.js';
import type { RepoState } from '../state/state-file.js';
import { retryDueAt } from './decide.js';

/** Why a repo is not checked now: it waits on no clock, only for resume, a reload, a trigger or removal. */
export type Hold = 'paused' | 'disabled';

export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly hold: Hold; readonly reason: string };

/** The lock's entry of a repo or target by name. */
export type EntryOf = (name: string) => RepoState | undefined;

/** Paused in the lock: the repo itself, or (for a branch glob's target) its glob. */
export function isPaused(repo: Pick<RepoConfig, 'name' | 'target'>, entryOf: EntryOf): boolean {
  return entryOf(repo.name)?.paused === true || (repo.target !== undefined && entryOf(repo.target.repo)?.paused === true);
}

/**
 * May `repo` be checked and run now? A trigger names a repo on purpose and overrides both holds. A paused
 * repo that is also disabled reads as paused: the pause is the operator's latest word.
 */
export function admit(repo: Pick<RepoConfig, 'name' | 'target' | 'enabled'>, entryOf: EntryOf, trigger: boolean): Admission {
  if (trigger) return { admitted: true };
  if (isPaused(repo, entryOf))
    return { admitted: false, hold: 'paused', reason: `paused; 'gitwatch resume ${repo.target?.repo ?? repo.name}' checks it again` };
  if (!repo.enabled) return { admitted: false, hold: 'disabled', reason: 'enabled: false' };
  return { admitted: true };
}

/** Longest wait between checks of a remote that keeps failing (unless the interval is longer). */
export const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * The wait after the `failures`-th failure in a row: the interval, then twice it, doubling up to 5 minutes,
 * whatever the cause. A missing repository or a refused key can be fixed at any moment, so a permanent
 * cause waits no longer than a transient one.
 */
export function backoffDelay(intervalMs: number, failures: number): number {
  const doublings = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(intervalMs * 2 ** doublings, Math.max(intervalMs, MAX_BACKOFF_MS));
}

/** How a turn ended, as far as the schedule cares. */
export type TurnEnd =
  /** The remote answered; a run may have happened (its result is in the lock). */
  | { readonly kind: 'checked' }
  /** The remote could not be checked or fetched, a local failure, or a bug in the turn: back off. */
  | { readonly kind: 'failed' }
  /** The run ended but its result could not be recorded: it runs again, with backoff. */
  | { readonly kind: 'unrecorded' }
  /** Shutdown or removal cut the turn short. */
  | { readonly kind: 'aborted' };

export interface ScheduleInput {
  readonly repo: Pick<RepoConfig, 'intervalMs' | 'retry'>;
  readonly end: TurnEnd;
  /** Failed turns in a row, this one included (0 after a good one). */
  readonly failures: number;
  readonly entry: RepoState | undefined;
  /** ms since the epoch. */
  readonly now: number;
  /** 0 ≤ random < 1, for jitter. */
  readonly random: number;
  /** A branch glob's target: its glob worker wakes it, it keeps no timer of its own. */
  readonly passive?: boolean;
  /** The turn's own admission, asked again after it: a held repo keeps no timer. */
  readonly held?: boolean;
}

export type Why = 'interval' | 'backoff' | 'retry' | 'woken';

/** When to look again: `delayMs` from now, or undefined for no timer (held, passive: only a wake-up checks). */
export interface NextCheck {
  readonly delayMs: number | undefined;
  readonly why: Why;
}

export function nextCheck(input: ScheduleInput): NextCheck {
  const { repo, end, failures, entry, now } = input;
  if (input.held === true || input.passive === true) return { delayMs: undefined, why: 'woken' };
  switch (end.kind) {
    case 'aborted':
      return { delayMs: 0, why: 'woken' };
    case 'failed':
    case 'unrecorded':
      return { delayMs: backoffDelay(repo.intervalMs, Math.max(failures, 1)), why: 'backoff' };
    case 'checked': {
      // Up to 10% later than the interval, so many repos do not fire at once.
      const interval = Math.round(repo.intervalMs * (1 + 0.1 * input.random));
      // A retry falls due sooner: it starts with a check, so a newer commit wins over it.
      const due = retryDueAt(repo, entry);
      if (due !== undefined && due - now < interval) return { delayMs: Math.max(0, due - now), why: 'retry' };
      return { delayMs: interval, why: 'interval' };
    }
  }
}
