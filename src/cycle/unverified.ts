// The signature gate of a repo's turn (`verify:`): a head the verifier refuses is not checked out and runs
// nothing. The lock's `commit` stays; its `unverified: {commit, reason}` says which head was refused and
// why until a verified commit runs (or the head is back at the lock's commit). A refusal is news (a
// notification) once per commit: one of the commit the lock already names as refused is said, not sent.

import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import type { GitCallOptions, Remote } from '../git/client.js';
import { TAG_REF } from '../git/signature.js';
import type { RepoState } from '../state/state-file.js';
import type { SignedHead } from '../verify/verifier.js';
import type { CycleDeps, FinishedStatus, Prepared } from './turn.js';

/** Where the head was fetched: the repo's store, and how to reach its remote for a tag object. */
export interface FetchedIn {
  readonly store: string;
  readonly call: GitCallOptions;
  readonly remote: Remote;
}

type Refused = Extract<Prepared, { kind: 'done' }>;

/**
 * A refusal of this very head under the same keys, made before by this process: refused again without a
 * fetch or a check, and not news (verify/verifier.ts says how often a head is checked). The lock names it
 * again if it forgot meanwhile (the head was away, at the lock's commit).
 */
export async function knownRefusal(repo: RepoConfig, head: SignedHead, deps: CycleDeps): Promise<Refused | undefined> {
  if (repo.verify === undefined) return undefined;
  const known = deps.verifier.known(repo, head);
  if (known === undefined) return undefined;
  if (deps.state.entry(repo.name)?.unverified?.commit !== head.sha) await recordRefusal(repo, head.sha, known, deps);
  return { kind: 'done', outcome: 'unverified', refusal: known };
}

/** Checks the fetched head's signatures; a refused head is recorded, said, and news once. */
export async function checkSignatures(
  config: ResolvedConfig,
  repo: RepoConfig,
  head: SignedHead,
  deps: CycleDeps,
  at: FetchedIn,
): Promise<Refused | undefined> {
  const fetchTag = (sha: string): Promise<void> => deps.git.fetch(at.store, at.remote, sha, at.call, TAG_REF, repo.depth);
  const reason = await deps.verifier.check(repo, head, { git: deps.git, workdir: config.workdir, store: at.store, call: at.call, fetchTag });
  if (reason === undefined) return undefined;
  const entry = deps.state.entry(repo.name);
  const before = entry?.unverified;
  const news = before?.commit !== head.sha;
  deps.reporter.emit({ type: 'unverified', repo: repo.name, commit: head.sha, reason });
  if (news || before.reason !== reason) await recordRefusal(repo, head.sha, reason, deps);
  if (news) {
    const now = deps.clock.now().toISOString();
    const run = { commit: head.sha, status: 'unverified' as const, startedAt: now, finishedAt: now, error: reason };
    const previousStatus: FinishedStatus | undefined = before !== undefined ? 'unverified' : entry?.lastRun?.status;
    deps.onRunFinished?.({ repo, branch: head.branch, tag: head.tag, previousCommit: entry?.commit, previousStatus, run, durationMs: 0, log: undefined });
  }
  return { kind: 'done', outcome: 'unverified', refusal: reason };
}

/** The head is back at the lock's commit: a refusal the lock still names is old news. */
export async function forgetRefusal(repo: RepoConfig, deps: CycleDeps): Promise<void> {
  if (deps.state.entry(repo.name)?.unverified !== undefined) await deps.state.update(repo.name, (e): RepoState => ({ ...e, unverified: undefined }));
}

/** The lock's `unverified`; one that cannot be written is checked (and written) afresh at the next check. */
async function recordRefusal(repo: RepoConfig, commit: string, reason: string, deps: CycleDeps): Promise<void> {
  try {
    await deps.state.update(repo.name, (e): RepoState => ({ ...e, unverified: { commit, reason } }));
  } catch (error) {
    deps.verifier.forget(repo.name);
    throw error;
  }
}
