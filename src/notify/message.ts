// What a notification says: which runs a target wants, and the body each format gets.

import type { NotifyOn, NotifyTarget } from '../config/types.js';
import type { FinishedRun } from '../cycle/turn.js';
import { formatDuration } from '../rules/duration.js';

/** The run as every target sees it (docs/operating.md, Notifications: the json format's fields, exactly). */
export interface RunReport {
  readonly repo: string;
  readonly branch: string;
  readonly commit: string;
  readonly previousCommit: string | null;
  readonly status: string;
  readonly error: string | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Without credentials. */
  readonly url: string;
  /** The run log's path; null for an `unverified` head, for which nothing ran. */
  readonly log: string | null;
  /** The news this notification is for: `failure`, `success` or `recovered`. */
  readonly event: NotifyOn;
}

/** What kinds of news a run is: a success after a failure is both `success` and `recovered`. */
export function newsOf(run: FinishedRun): NotifyOn[] {
  switch (run.run.status) {
    // `unverified`: a head refused for its signature; nothing ran, and nothing will until a verified commit comes.
    case 'failed':
    case 'unverified':
      return ['failure'];
    case 'succeeded':
      return run.previousStatus === 'failed' || run.previousStatus === 'unverified' ? ['success', 'recovered'] : ['success'];
    default:
      // Interrupted runs run again at the next start, and skipped ones ran nothing: neither is news.
      return [];
  }
}

export function wants(target: NotifyTarget, run: FinishedRun): boolean {
  return newsOf(run).some((news) => target.on.includes(news));
}

/**
 * The news a target hears of a run: `recovered` for a target that asked for it (a success after a failure),
 * else `success` or `failure`. With no target, the most specific news of the run.
 */
export function eventFor(run: FinishedRun, on?: readonly NotifyOn[]): NotifyOn {
  const news = newsOf(run);
  const wanted = on === undefined ? news : news.filter((n) => on.includes(n));
  if (wanted.includes('recovered')) return 'recovered';
  return wanted[0] ?? news[0] ?? (run.run.status === 'succeeded' ? 'success' : 'failure');
}

export function reportOf(run: FinishedRun, on?: readonly NotifyOn[]): RunReport {
  return {
    repo: run.repo.name,
    branch: run.branch,
    commit: run.run.commit,
    previousCommit: run.previousCommit ?? null,
    status: run.run.status,
    error: run.run.error ?? null,
    startedAt: run.run.startedAt,
    finishedAt: run.run.finishedAt,
    durationMs: run.durationMs,
    url: run.repo.displayUrl,
    log: run.log ?? null,
    event: eventFor(run, on),
  };
}

/**
 * One line for chat: `gitwatch: site recovered: succeeded 3f2a9c1d04be on main in 4.1s`, or for a refused
 * head `gitwatch: site unverified 3f2a9c1d04be on main: commit 3f2a9c1d04be: unsigned`.
 */
export function summary(run: FinishedRun): string {
  const r = reportOf(run);
  const what = newsOf(run).includes('recovered') ? 'recovered: succeeded' : r.status;
  const error = r.error === null ? '' : `: ${r.error}`;
  const took = r.status === 'unverified' ? '' : ` in ${formatDuration(r.durationMs)}`;
  return `gitwatch: ${r.repo} ${what} ${r.commit.slice(0, 12)} on ${run.tag !== undefined ? `tag ${run.tag}` : r.branch}${took}${error}`;
}

/** `on`: what the target asked for, so the json body's `event` is the news it is sent for. */
export function bodyFor(format: 'json' | 'slack' | 'discord', run: FinishedRun, on?: readonly NotifyOn[]): string {
  switch (format) {
    case 'json':
      return JSON.stringify(reportOf(run, on));
    case 'slack':
      return JSON.stringify({ text: summary(run) });
    case 'discord':
      return JSON.stringify({ content: summary(run) });
  }
}
