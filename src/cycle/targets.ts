// A branch glob's check: one `ls-remote` of the remote's branches gives every target and its head. Targets
// whose branch left the remote are marked gone in the lock (their entry stays); after GONE_GRACE_MS their
// checkout and store are removed. A branch that comes back is followed again.

import { rm } from 'node:fs/promises';
import { isBranchGlob, recordedFolder, targetFolders, targetOf, type FolderClaim } from '../config/targets.js';
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
  const store = storeDir(config.workdir, repo);
  let found: Target[];
  try {
    await deps.git.ensureStore(store, call);
    found = await listTargets(deps.git, store, repo, call, deps.state.current.repos);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    if (error.kind !== 'aborted') deps.onCheck?.(repo.name, false);
    return err(error);
  }
  deps.onCheck?.(repo.name, true);
  // Each target's head was checked by the same listing: its metrics say so.
  for (const t of found) deps.onCheck?.(t.repo.name, true);
  await markGone(config, repo, found, deps);
  return ok(found);
}

/**
 * The targets a branch glob repo has on the remote now, in branch order, each in its own folder (chosen
 * from the listing and the lock's `entries`): one `ls-remote`, nothing written.
 */
export async function listTargets(
  git: GitClient,
  store: string,
  repo: RepoConfig & { branch: string },
  call: GitCallOptions,
  entries: Readonly<Record<string, FolderClaim>>,
): Promise<Target[]> {
  const refs = await git.listRefs(store, { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh }, ['refs/heads/'], call);
  const branches = selectBranches(refs, repo.branch);
  const folders = targetFolders(
    repo.name,
    branches.map((b) => b.branch),
    entries,
  );
  return branches.map(({ branch, sha }) => ({ repo: targetOf(repo, branch, folders.get(branch) ?? fileName(branch)), head: { sha, branch } }));
}

/**
 * Marks the glob's targets that left the remote as gone (and those back as not), and removes a target's
 * checkout and store once it has been gone for GONE_GRACE_MS. Folders are chosen over the listing and the
 * whole lock, so a gone target's folders are never another target's; a folder a listed target uses is
 * never removed all the same.
 */
async function markGone(config: ResolvedConfig, repo: RepoConfig & { branch: string }, found: readonly Target[], deps: CycleDeps): Promise<void> {
  const now = deps.clock.now();
  const entries = deps.state.current.repos;
  const present = new Map(found.map((t) => [t.repo.name, t.repo]));
  const folders = targetFolders(
    repo.name,
    found.map((t) => t.head.branch),
    entries,
  );
  const inUse = new Set(found.flatMap((t) => [t.repo.checkout, storeDir(config.workdir, t.repo)]));
  for (const [name, entry] of Object.entries(entries)) {
    if (repoOfTarget(name) !== repo.name || name === repo.name) continue;
    const branch = name.slice(repo.name.length + 1);
    const target = present.get(name) ?? targetOf(repo, branch, folders.get(branch) ?? fileName(branch));
    const folder = recordedFolder(target);
    if (present.has(name)) {
      if (entry.gone !== undefined || entry.folder !== folder) await deps.state.update(name, (e) => ({ ...e, gone: undefined, folder }));
      continue;
    }
    if (entry.gone === undefined) {
      deps.reporter.emit({ type: 'target-gone', repo: name, branch });
      await deps.state.update(name, (e) => ({ ...e, gone: now.toISOString(), folder }));
      continue;
    }
    if (now.getTime() - Date.parse(entry.gone) >= GONE_GRACE_MS) {
      // Only what gitwatch made: the target's checkout and store. Its lock entry and run logs stay.
      for (const dir of [target.checkout, storeDir(config.workdir, target)]) if (!inUse.has(dir)) await rm(dir, { recursive: true, force: true });
    }
  }
}
