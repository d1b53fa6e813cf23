// `gitwatch rollback`: which commit to go back to, and the pin that holds the repo there. The daemon and
// the command without a daemon both choose here, then record the pin and trigger the repo: the turn runs
// the pinned commit because the one admission rule (schedule.ts) says so, whatever started the turn.

import { isBranchGlob } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { err, isSha, ok, shortSha, storeDir, type Result } from '../domain.js';
import { GitError } from '../errors.js';
import { PLAN_REF, type GitClient, type Remote } from '../git/client.js';
import type { PinRecord, RepoState } from '../state/state-file.js';
import { followedRefOf } from './schedule.js';
import { remoteHead } from './turn.js';

export interface RollbackDeps {
  readonly git: GitClient;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Why a rollback cannot be made: the request is wrong for this repo (`usage`, exit 2), or the remote could
 * not be asked (`check`, exit 1).
 */
export interface RollbackRefusal {
  readonly kind: 'usage' | 'check';
  readonly message: string;
}

/** The newest commit in `history`, other than the lock's `commit`, whose run succeeded. */
export function lastGood(entry: RepoState | undefined): string | undefined {
  return entry?.history?.find((run) => run.status === 'succeeded' && run.commit !== entry.commit)?.commit;
}

/**
 * The commit to roll back to: `to`, which must be in the remote's history of the followed ref, or else the
 * last good one in `history`.
 */
export async function chooseRollback(
  config: ResolvedConfig,
  repo: RepoConfig,
  entry: RepoState | undefined,
  to: string | undefined,
  deps: RollbackDeps,
): Promise<Result<string, RollbackRefusal>> {
  const usage = (message: string): Result<string, RollbackRefusal> => err({ kind: 'usage', message });
  if (repo.commit !== undefined) return usage(`${repo.name} is pinned by its config ('commit: ${shortSha(repo.commit)}'): change the config to move it`);
  if (isBranchGlob(repo)) return usage(`${repo.name} follows a branch glob: roll back one of its targets (${repo.name}@<branch>)`);
  if (to === undefined) {
    const good = lastGood(entry);
    if (good === undefined) return usage(`${repo.name} has no earlier successful run to roll back to (see 'gitwatch status'); name a commit with --to`);
    return ok(good);
  }
  const sha = to.toLowerCase();
  if (!isSha(sha)) return usage(`--to needs a full commit id (40 hex digits), not '${to.slice(0, 80)}'`);
  const store = storeDir(config.workdir, repo);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  const remote: Remote = { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh };
  try {
    await deps.git.ensureStore(store, call, { sweep: false });
    const head = await remoteHead(deps.git, store, repo, call);
    // Under plan's ref: a daemon's checkout is made from the store's own target ref, which this must not move.
    await deps.git.fetch(store, remote, head.sha, call, PLAN_REF, repo.depth);
    const changes = await deps.git.changes(store, sha, head.sha, call, remote);
    const ref = head.tag === undefined ? `branch ${head.branch}` : `tag ${head.tag}`;
    if (!changes.descendant) return usage(`commit ${shortSha(sha)} is not in the history of ${ref} of ${repo.displayUrl}`);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return err({ kind: 'check', message: error.message });
  }
  return ok(sha);
}

/** The pin a rollback records: the commit, and the url and ref it was made on (a config that moves drops it). */
export function rollbackPin(repo: RepoConfig, commit: string, at: Date): PinRecord {
  return { commit, reason: 'rollback', at: at.toISOString(), url: repo.displayUrl, ref: followedRefOf(repo) };
}
