// One cycle over a set of repos: check every remote (in parallel), then, in config order and one at a
// time, bring each changed repo's checkout to its new head, run its pipeline and record the result.

import { isBranchGlob } from '../config/targets.js';
import { err, ok } from '../domain.js';
import { GitError } from '../errors.js';
import { discoverTargets } from './targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { limiter } from '../runtime/limiter.js';
import { formatDuration } from '../rules/duration.js';
import { retryDueAt, retryWaitMs } from './decide.js';
import { checkRepo, ensureStoreRoot, prepareRun, runPrepared, type Check, type CycleDeps, type Outcome, type Prepared, type RepoOutcome } from './turn.js';

export async function runCycle(
  config: ResolvedConfig,
  selected: readonly RepoConfig[],
  deps: CycleDeps,
  triggered: ReadonlySet<string> = new Set(),
): Promise<RepoOutcome[]> {
  await ensureStoreRoot(config);
  const limit = limiter(deps.concurrency);
  const isTriggered = (repo: RepoConfig): boolean => triggered.has(repo.name) || (repo.target !== undefined && triggered.has(repo.target.repo));
  // A paused repo is not checked; a trigger names it on purpose and runs it anyway. Pausing a branch glob pauses its targets.
  const pausedName = (name: string): boolean => deps.state.entry(name)?.paused === true;
  const isPaused = (repo: RepoConfig): boolean => (pausedName(repo.name) || (repo.target !== undefined && pausedName(repo.target.repo))) && !isTriggered(repo);
  const pausedOutcome = (repo: RepoConfig): RepoOutcome => {
    deps.reporter.emit({ type: 'paused', repo: repo.name });
    return { repo: repo.name, outcome: 'paused' };
  };
  const paused = selected.filter(isPaused).map(pausedOutcome);
  // A disabled repo is not checked either, unless a trigger names it.
  const isDisabled = (repo: RepoConfig): boolean => !repo.enabled && !isTriggered(repo) && !isPaused(repo);
  for (const repo of selected.filter(isDisabled)) {
    deps.reporter.emit({ type: 'disabled', repo: repo.name });
    paused.push({ repo: repo.name, outcome: 'disabled' });
  }
  const checked = selected.filter((repo) => !isPaused(repo) && !isDisabled(repo));
  // A branch glob stands for its targets: one listing of the remote's branches finds them and their heads.
  const globs = new Map(checked.filter(isBranchGlob).map((repo) => [repo.name, limit(() => discoverTargets(config, repo, deps))]));
  const plain = checked.filter((repo) => !isBranchGlob(repo));
  const plainChecks = new Map(checkAll(config, plain, deps).map((check, i) => [plain[i]?.name ?? '', check]));
  const units: { repo: RepoConfig; check: Promise<Check> }[] = [];
  for (const repo of checked) {
    const found = await globs.get(repo.name);
    if (found === undefined) units.push({ repo, check: plainChecks.get(repo.name) ?? Promise.resolve(err(new GitError('other', 'not checked'))) });
    else if (!found.ok) units.push({ repo, check: Promise.resolve(err(found.error)) });
    else units.push(...found.value.map((t) => ({ repo: t.repo, check: Promise.resolve(ok(t.head)) })));
  }
  paused.push(
    ...units
      .map((u) => u.repo)
      .filter(isPaused)
      .map(pausedOutcome),
  );
  const active = units.filter((u) => !isPaused(u.repo));
  const repos = active.map((u) => u.repo);
  const checks = active.map((u) => u.check);
  // Fetches and checkouts run in parallel too, as soon as their check is in; pipelines wait their turn below.
  const prepared = repos.map(async (repo, i): Promise<Prepared> => {
    const check = await checks[i];
    if (check === undefined || !check.ok) return { kind: 'done', outcome: 'check-failed', error: check?.error ?? new GitError('other', 'not checked') };
    try {
      return await limit(() => prepareRun(config, repo, check.value, deps, isTriggered(repo)));
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
    outcomes.push({ repo: repo.name, outcome: deps.signal?.aborted ? 'interrupted' : await runWithRetries(config, repo, ready, deps) });
  }
  return outcomes;
}

/**
 * Runs a prepared repo; with `retry`, a failure waits its backoff here and tries again (other repos wait:
 * `once` runs pipelines one at a time). Each try starts with a check, so a newer commit replaces the retry.
 */
async function runWithRetries(config: ResolvedConfig, repo: RepoConfig, ready: Extract<Prepared, { kind: 'ready' }>, deps: CycleDeps): Promise<Outcome> {
  let outcome = await runPrepared(config, repo, ready, deps);
  while (outcome === 'failed' && !deps.signal?.aborted) {
    const due = retryDueAt(repo, deps.state.entry(repo.name));
    if (due === undefined) break;
    const waitMs = Math.max(0, due - deps.clock.now().getTime());
    const attempt = (deps.state.entry(repo.name)?.lastRun?.attempt ?? 1) + 1;
    const total = (repo.retry?.attempts ?? 0) + 1;
    // The wait as configured (the run's own end already ate into it by a few milliseconds).
    const shown = formatDuration(retryWaitMs(repo.retry?.backoffMs ?? 0, attempt - 1));
    deps.reporter.emit({ type: 'waiting', repo: repo.name, commit: ready.head.sha, reason: `failed; try ${attempt} of ${total} in ${shown}` });
    await deps.clock.sleep(waitMs, deps.signal);
    if (deps.signal?.aborted) break;
    const check = await checkRepo(config, repo, deps);
    if (!check.ok) {
      deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: check.error.message, kind: check.error.kind });
      break;
    }
    const next = await prepareRun(config, repo, check.value, deps, false);
    if (next.kind === 'done') return next.outcome;
    outcome = await runPrepared(config, repo, next, deps);
  }
  return outcome;
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
