// A branch glob's check: one `ls-remote` of the remote's branches gives every target and its head. Targets
// whose branch left the remote are marked gone in the lock (their entry stays); after GONE_GRACE_MS their
// checkout and store are removed. A branch that comes back is followed again.

import { rm } from 'node:fs/promises';
import { isBranchGlob, targetName, targetOf } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { err, fileName, ok, repoOfTarget, storeDir, type Result } from '../domain.js';
import { GitError } from '../errors.js';
import type { GitCallOptions, GitClient, RemoteHead } from '../git/client.js';
import { selectBranches } from '../git/ref-select.js';
import type { CycleDeps } from './turn.js';

/** How long a gone target's checkout and store are kept, in case the branch comes back. */
export const GONE_GRACE_MS = 24 * 60 * 60_000;

export interface Target {
  readonly repo: RepoConfig;
  readonly head: RemoteHead;
}

/** The targets of a branch glob repo now, in branch order; gone ones are recorded as such. */
export async function discoverTargets(config: ResolvedConfig, repo: RepoConfig, deps: CycleDeps): Promise<Result<Target[], GitError>> {
  if (!isBranchGlob(repo)) throw new Error(`${repo.name} does not follow a branch glob`);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  const store = storeDir(config.workdir, repo.name);
  let found: Target[];
  try {
    await deps.git.ensureStore(store, call);
    found = distinctFolders(await listTargets(deps.git, store, repo, call), deps);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    if (error.kind !== 'aborted') deps.onCheck?.(repo.name, false);
    return err(error);
  }
  deps.onCheck?.(repo.name, true);
  // Each target's head was checked by the same listing: its metrics say so.
  for (const t of found) deps.onCheck?.(t.repo.name, true);
  await markGone(config, repo, new Set(found.map((t) => t.repo.name)), deps);
  return ok(found);
}

/** The targets a branch glob repo has on the remote now, in branch order: one `ls-remote`, nothing written. */
export async function listTargets(git: GitClient, store: string, repo: RepoConfig & { branch: string }, call: GitCallOptions): Promise<Target[]> {
  const refs = await git.listRefs(store, { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh }, ['refs/heads/'], call);
  return selectBranches(refs, repo.branch).map(({ branch, sha }) => ({ repo: targetOf(repo, branch), head: { sha, branch } }));
}

async function markGone(config: ResolvedConfig, repo: RepoConfig & { branch: string }, present: ReadonlySet<string>, deps: CycleDeps): Promise<void> {
  const now = deps.clock.now();
  for (const [name, entry] of Object.entries(deps.state.current.repos)) {
    if (repoOfTarget(name) !== repo.name || name === repo.name) continue;
    if (present.has(name)) {
      if (entry.gone !== undefined) await deps.state.update(name, (e) => ({ ...e, gone: undefined }));
      continue;
    }
    if (entry.gone === undefined) {
      const branch = name.slice(repo.name.length + 1);
      deps.reporter.emit({ type: 'target-gone', repo: name, branch });
      await deps.state.update(name, (e) => ({ ...e, gone: now.toISOString() }));
      continue;
    }
    if (now.getTime() - Date.parse(entry.gone) >= GONE_GRACE_MS) {
      // Only what gitwatch made: the target's checkout and store. Its lock entry and run logs stay.
      const target = targetOf(repo, name.slice(repo.name.length + 1));
      await rm(target.checkout, { recursive: true, force: true });
      await rm(storeDir(config.workdir, targetName(repo.name, target.branch ?? '')), { recursive: true, force: true });
    }
  }
}

/**
 * `release/1.0` and `release-1.0` would share one checkout (`/` is written as `-`): the first by name is
 * followed, the other is reported on every check and left alone.
 */
function distinctFolders(found: readonly Target[], deps: CycleDeps): Target[] {
  const byFolder = new Map<string, Target>();
  const out: Target[] = [];
  for (const t of found) {
    const first = byFolder.get(fileName(t.repo.name));
    if (first === undefined) {
      byFolder.set(fileName(t.repo.name), t);
      out.push(t);
      continue;
    }
    const error = `branch '${t.head.branch}' would share the checkout of '${first.head.branch}' ('/' is written as '-'); it is not followed`;
    deps.reporter.emit({ type: 'check-failed', repo: t.repo.name, error, kind: 'invalid-name' });
  }
  return out;
}
