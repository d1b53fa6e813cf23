// The two rules every path of gitwatch asks before and after a repo's turn, as pure functions: may this
// repo run now (and if not, why), and when to look at it again. `once`, the daemon's workers and `plan` all
// call these; nothing else decides either question.

import type { RepoConfig } from '../config/types.js';
import type { PinRecord, RepoState } from '../state/state-file.js';
import { retryDueAt } from './decide.js';

/** Why a repo is not checked now: it waits on no clock, only for resume, a reload, a trigger or removal. */
export type Hold = 'paused' | 'disabled';

/**
 * What an admitted repo runs instead of its ref's head: the config's `commit:`, or the commit an operator
 * rolled back to. Its ref is still checked (to show the head), but only this commit runs.
 */
export interface Pin {
  readonly commit: string;
  readonly by: 'config' | 'rollback';
}

export type Admission = { readonly admitted: true; readonly pin: Pin | undefined } | { readonly admitted: false; readonly hold: Hold; readonly reason: string };

type Followed = Pick<RepoConfig, 'name' | 'target' | 'enabled' | 'displayUrl' | 'branch' | 'tag' | 'semver' | 'commit'>;

/** The ref a repo follows, as a pin records it: a pin made on another url or ref no longer holds. */
export function followedRefOf(repo: Pick<RepoConfig, 'branch' | 'tag' | 'semver' | 'commit'>): string {
  if (repo.commit !== undefined) return `commit:${repo.commit}`;
  if (repo.tag !== undefined) return `tag:${repo.tag}${repo.semver === undefined ? '' : ` ${repo.semver}`}`;
  return repo.branch === undefined ? 'default' : `branch:${repo.branch}`;
}

/** An operator's pin that the config still allows: same url, same ref, and no `commit:` of its own. */
export function pinHolds(repo: Pick<RepoConfig, 'displayUrl' | 'branch' | 'tag' | 'semver' | 'commit'>, pinned: PinRecord): boolean {
  return repo.commit === undefined && (pinned.url ?? repo.displayUrl) === repo.displayUrl && (pinned.ref ?? followedRefOf(repo)) === followedRefOf(repo);
}

/** The commit `repo` runs instead of its ref's head, if any. The config's `commit:` wins over a rollback. */
export function pinOf(repo: Pick<RepoConfig, 'displayUrl' | 'branch' | 'tag' | 'semver' | 'commit'>, entry: RepoState | undefined): Pin | undefined {
  if (repo.commit !== undefined) return { commit: repo.commit, by: 'config' };
  const pinned = entry?.pinned;
  return pinned !== undefined && pinHolds(repo, pinned) ? { commit: pinned.commit, by: 'rollback' } : undefined;
}

/** The lock's entry of a repo or target by name. */
export type EntryOf = (name: string) => RepoState | undefined;

/** Paused in the lock: the repo itself, or (for a branch glob's target) its glob. */
export function isPaused(repo: Pick<RepoConfig, 'name' | 'target'>, entryOf: EntryOf): boolean {
  return entryOf(repo.name)?.paused === true || (repo.target !== undefined && entryOf(repo.target.repo)?.paused === true);
}

/**
 * May `repo` be checked and run now, and which commit may run: its ref's head, or the one it is pinned
 * to? A trigger names a repo on purpose and overrides both holds. A paused repo that is also disabled
 * reads as paused: the pause is the operator's latest word.
 */
export function admit(repo: Followed, entryOf: EntryOf, trigger: boolean): Admission {
  // A trigger of a pinned repo runs the pinned commit again: only `unpin` (or the config) lets the head run.
  const pin = pinOf(repo, entryOf(repo.name));
  if (trigger) return { admitted: true, pin };
  if (isPaused(repo, entryOf))
    return { admitted: false, hold: 'paused', reason: `paused; 'gitwatch resume ${repo.target?.repo ?? repo.name}' checks it again` };
  if (!repo.enabled) return { admitted: false, hold: 'disabled', reason: 'enabled: false' };
  return { admitted: true, pin };
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
