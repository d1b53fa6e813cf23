// One cycle over a set of repos: check every remote (in parallel), then, in config order and one at a
// time, bring each changed repo's checkout to its new head, run its pipeline and record the result.

import { GitError } from '../errors.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { limiter } from '../runtime/limiter.js';
import { checkRepo, ensureStoreRoot, prepareRun, runPrepared, type Check, type CycleDeps, type Prepared, type RepoOutcome } from './turn.js';

export async function runCycle(
  config: ResolvedConfig,
  selected: readonly RepoConfig[],
  deps: CycleDeps,
  triggered: ReadonlySet<string> = new Set(),
): Promise<RepoOutcome[]> {
  await ensureStoreRoot(config);
  // A paused repo is not checked; a trigger names it on purpose and runs it anyway.
  const isPaused = (repo: RepoConfig): boolean => deps.state.entry(repo.name)?.paused === true && !triggered.has(repo.name);
  const paused: RepoOutcome[] = selected.filter(isPaused).map((repo) => {
    deps.reporter.emit({ type: 'paused', repo: repo.name });
    return { repo: repo.name, outcome: 'paused' };
  });
  const repos = selected.filter((repo) => !isPaused(repo));
  const checks = checkAll(config, repos, deps);
  // Fetches and checkouts run in parallel too, as soon as their check is in; pipelines wait their turn below.
  const limit = limiter(deps.concurrency);
  const prepared = repos.map(async (repo, i): Promise<Prepared> => {
    const check = await checks[i];
    if (check === undefined || !check.ok) return { kind: 'done', outcome: 'check-failed', error: check?.error ?? new GitError('other', 'not checked') };
    try {
      return await limit(() => prepareRun(config, repo, check.value, deps, triggered.has(repo.name)));
    } catch (error) {
      // A local failure (a checkout path that is a file, a full disk) fails this repo, not the cycle.
      return { kind: 'done', outcome: 'check-failed', error: new GitError('other', `${repo.name}: ${(error as Error).message}`) };
    }
  });
  const outcomes: RepoOutcome[] = [...paused];
  for (const [i, repo] of repos.entries()) {
    const ready = await prepared[i];
    if (ready === undefined) continue;
    if (ready.kind === 'done' && ready.error) deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: ready.error.message, kind: ready.error.kind });
    if (ready.kind === 'done') {
      outcomes.push({ repo: repo.name, outcome: ready.outcome });
      continue;
    }
    outcomes.push({ repo: repo.name, outcome: deps.signal?.aborted ? 'interrupted' : await runPrepared(config, repo, ready, deps) });
  }
  return outcomes;
}

/** All checks start at once, at most `concurrency` running; repos on the same remote and branch share one. */
function checkAll(config: ResolvedConfig, repos: readonly RepoConfig[], deps: CycleDeps): Promise<Check>[] {
  const limit = limiter(deps.concurrency);
  const shared = new Map<string, Promise<Check>>();
  return repos.map((repo) => {
    const key = JSON.stringify([repo.remote, repo.branch ?? '', repo.tag ?? null, repo.semver ?? null, repo.credentials ?? null, repo.ssh]);
    let check = shared.get(key);
    if (check === undefined) {
      check = limit(() => checkRepo(config, repo, deps));
      shared.set(key, check);
    }
    return check;
  });
}
