// How a run is named for people: what it follows and why it starts. The plain line, the terminal's live
// view and summary, and `plan` take their words from here, so no view can say `first run` of a re-run or
// drop a tag that another view shows.

import { shortSha, type RunReason } from '../domain.js';

/** Why a run starts, as a person reads it. */
export const RUN_REASON_WORDS: Readonly<Record<RunReason, string>> = {
  first: 'first run',
  'new-commit': 'new commit',
  moved: 'url or branch changed',
  'retry-interrupted': 'interrupted before; runs again',
  retry: 'failed before',
  trigger: 'triggered',
  rollback: 'rollback',
};

/** What a run follows: its branch, or `tag v1.2.0` (a tag repo's branch is empty). */
export function followedRef(run: { readonly branch: string; readonly tag?: string | undefined }): string {
  return run.tag === undefined ? run.branch : `tag ${run.tag}`;
}

export interface RunStart {
  readonly reason: RunReason;
  readonly previousCommit: string | undefined;
  readonly attempt?: number | undefined;
}

/** Why a run starts, the commit it replaces and which try it is: `interrupted before; runs again, was 91c0e2aa7d13`. */
export function runCause(start: RunStart): string {
  const parts: string[] = [];
  // A new commit is told by the one it replaces: `was 91c0e2aa7d13` says it without another word.
  if (start.reason !== 'new-commit' || start.previousCommit === undefined) parts.push(RUN_REASON_WORDS[start.reason]);
  if (start.previousCommit !== undefined) parts.push(`was ${shortSha(start.previousCommit)}`);
  if ((start.attempt ?? 1) > 1) parts.push(`try ${start.attempt}`);
  return parts.join(', ');
}

/** The head of a run's start line and live view: `site 3f2a9c1d04be on main (was 91c0e2aa7d13)`. */
export function runTitle(
  start: RunStart & { readonly repo: string; readonly commit: string; readonly branch: string; readonly tag?: string | undefined },
): string {
  return `${start.repo} ${shortSha(start.commit)} on ${followedRef(start)} (${runCause(start)})`;
}
