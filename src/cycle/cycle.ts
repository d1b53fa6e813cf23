// One cycle over a set of repos: check every remote and bring each changed repo's checkout to its new head
// (in parallel, up to `concurrency.checks`), then run the pipelines in config order through the pipeline
// queue (one at a time unless `concurrency.pipelines` says more; never two of one group), recording each.

import { isBranchGlob } from '../config/targets.js';
import { err, ok, type Outcome, type Result } from '../domain.js';
import type { RemoteHead } from '../git/client.js';
import { discoverTargets } from './targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { limiter } from '../runtime/limiter.js';
import { PipelineQueue, type Rank } from '../runtime/pipeline-queue.js';
import { formatDuration } from '../rules/duration.js';
import { retryWaitMs } from './decide.js';
import { admit, nextCheck, type EntryOf } from './schedule.js';
import { describeFailure, toTurnFailure, type TurnFailure } from './turn-failure.js';
import { checkRepo, prepareRun, runPrepared, type CycleDeps, type Prepared, type RepoOutcome } from './turn.js';

export async function runCycle(
  config: ResolvedConfig,
  selected: readonly RepoConfig[],
  deps: CycleDeps,
  triggered: ReadonlySet<string> = new Set(),
): Promise<RepoOutcome[]> {
  const limit = limiter(deps.concurrency);
  const isTriggered = (repo: RepoConfig): boolean => triggered.has(repo.name) || (repo.target !== undefined && triggered.has(repo.target.repo));
  const entryOf: EntryOf = (name) => deps.state.entry(name);
  const outcomes: RepoOutcome[] = [];
  /** The admission rule (cycle/schedule.ts); a held repo is reported and not checked. */
  const admitted = (repo: RepoConfig): boolean => {
    const admission = admit(repo, entryOf, isTriggered(repo));
    if (admission.admitted) return true;
    deps.reporter.emit({ type: admission.hold, repo: repo.name });
    outcomes.push({ repo: repo.name, outcome: admission.hold });
    return false;
  };
  const checked = selected.filter(admitted);
  // A branch glob stands for its targets: one listing of the remote's branches finds them and their heads.
  const globs = new Map(checked.filter(isBranchGlob).map((repo) => [repo.name, limit(() => guarded(() => discoverTargets(config, repo, deps)))]));
  const plain = checked.filter((repo) => !isBranchGlob(repo));
  const plainChecks = new Map(checkAll(config, plain, deps).map((check, i) => [plain[i]?.name ?? '', check]));
  const units: { repo: RepoConfig; check: Promise<Guarded<RemoteHead>> }[] = [];
  for (const repo of checked) {
    const found = await globs.get(repo.name);
    if (found === undefined)
      units.push({ repo, check: plainChecks.get(repo.name) ?? Promise.resolve(err({ kind: 'internal', message: 'not checked', stack: undefined })) });
    else if (!found.ok) units.push({ repo, check: Promise.resolve(found) });
    else if (!found.value.ok) units.push({ repo, check: Promise.resolve(err({ kind: 'git', error: found.value.error })) });
    // A target is held like a repo: its glob's pause holds it too.
    else units.push(...found.value.value.filter((t) => admitted(t.repo)).map((t) => ({ repo: t.repo, check: Promise.resolve(ok(t.head)) })));
  }
  // Fetches and checkouts run in parallel too, as soon as their check is in; pipelines wait their turn below.
  const prepared = units.map(async ({ repo, check }): Promise<Guarded<Prepared>> => {
    const head = await check;
    if (!head.ok) return head;
    return limit(() => guarded(() => prepareRun(config, repo, head.value, deps, isTriggered(repo))));
  });
  // Pipelines take their turn through the same queue as the daemon's (concurrency.pipelines, groups). Each
  // repo enters it only after the repos before it in the config, so they start in config order.
  const queue = new PipelineQueue(config.pipelines);
  let previous: Promise<void> = Promise.resolve();
  const results = units.map(({ repo }, i) => {
    const before = previous;
    let entered: () => void = () => undefined;
    previous = new Promise<void>((resolve) => (entered = resolve));
    const turn = async (): Promise<Outcome> => {
      const ready = await prepared[i];
      await before;
      if (ready === undefined) return 'interrupted';
      if (!ready.ok) return reportFailure(repo, ready.error, deps);
      const value = ready.value;
      if (value.kind === 'done') {
        if (value.error) reportFailure(repo, { kind: 'git', error: value.error }, deps);
        return value.outcome;
      }
      if (deps.signal?.aborted) return 'interrupted';
      const slot = { name: repo.name, rank: rankIn(config, repo), group: repo.group };
      const queued = (why: string): void => deps.reporter.emit({ type: 'run-queued', repo: repo.name, commit: value.head.sha, waitingFor: why });
      const queuedAt = deps.clock.now().getTime();
      const task = (): Promise<Guarded<Outcome>> => {
        // Stopped while it waited its turn: it never started, so nothing is recorded; it runs next time.
        if (deps.signal?.aborted) return Promise.resolve(ok<Outcome>('interrupted'));
        deps.onQueueWait?.(repo.name, deps.clock.now().getTime() - queuedAt);
        return guarded(() => runWithRetries(config, repo, value, deps));
      };
      const run = queue.exclusive(slot, task, queued);
      entered();
      const ran = await run;
      return ran.ok ? ran.value : reportFailure(repo, ran.error, deps);
    };
    return turn().finally(entered);
  });
  for (const [i, { repo }] of units.entries()) outcomes.push({ repo: repo.name, outcome: (await results[i]) ?? 'interrupted' });
  return outcomes;
}

/** A repo's place in the queue: its place in the config, then a glob target's branch. */
function rankIn(config: ResolvedConfig, repo: RepoConfig): Rank {
  const name = repo.target?.repo ?? repo.name;
  return [config.repos.findIndex((r) => r.name === name), repo.target === undefined ? '' : (repo.branch ?? '')];
}

type Ready = Extract<Prepared, { kind: 'ready' }>;
type Guarded<T> = Result<T, TurnFailure>;

/** The turn's one error boundary: whatever a step of it throws becomes a TurnFailure here. */
async function guarded<T>(work: () => Promise<T>): Promise<Guarded<T>> {
  try {
    return ok(await work());
  } catch (error) {
    return err(toTurnFailure(error));
  }
}

/** Says why a repo's turn failed, as the daemon would, and returns the outcome it counts as. */
function reportFailure(repo: RepoConfig, failure: TurnFailure, deps: CycleDeps): Outcome {
  const error = describeFailure(failure);
  if (failure.kind === 'git') {
    if (failure.error.kind === 'aborted') return 'interrupted';
    deps.reporter.emit({ type: 'check-failed', repo: repo.name, error, kind: failure.error.kind });
    return 'check-failed';
  }
  deps.reporter.emit({ type: 'turn-failed', repo: repo.name, error, kind: failure.kind, stack: failure.kind === 'internal' ? failure.stack : undefined });
  deps.onTurnFailed?.(repo.name, failure.kind);
  return 'turn-failed';
}

/**
 * Runs a prepared repo; with `retry`, a failure waits here for the retry the schedule (nextCheck) names and
 * tries again, keeping its place in the pipeline queue meanwhile. Each try starts with a check, so a newer
 * commit replaces the retry.
 */
async function runWithRetries(config: ResolvedConfig, repo: RepoConfig, ready: Ready, deps: CycleDeps): Promise<Outcome> {
  let outcome = await runPrepared(config, repo, ready, deps);
  while (outcome === 'failed' && !deps.signal?.aborted) {
    const entry = deps.state.entry(repo.name);
    const next = nextCheck({ repo, end: { kind: 'checked' }, failures: 0, entry, now: deps.clock.now().getTime(), random: 0 });
    if (next.why !== 'retry' || next.delayMs === undefined) break;
    const attempt = (entry?.lastRun?.attempt ?? 1) + 1;
    const total = (repo.retry?.attempts ?? 0) + 1;
    // The wait as configured (the run's own end already ate into it by a few milliseconds).
    const shown = formatDuration(retryWaitMs(repo.retry?.backoffMs ?? 0, attempt - 1));
    deps.reporter.emit({ type: 'waiting', repo: repo.name, commit: ready.head.sha, reason: `failed; try ${attempt} of ${total} in ${shown}` });
    await deps.clock.sleep(next.delayMs, deps.signal);
    if (deps.signal?.aborted) break;
    const check = await checkRepo(config, repo, deps);
    if (!check.ok) return reportFailure(repo, { kind: 'git', error: check.error }, deps);
    const again = await prepareRun(config, repo, check.value, deps, false);
    if (again.kind === 'done') return again.error ? reportFailure(repo, { kind: 'git', error: again.error }, deps) : again.outcome;
    outcome = await runPrepared(config, repo, again, deps);
  }
  return outcome;
}

/** All checks start at once, at most `concurrency` running; repos on the same remote and branch share one. */
function checkAll(config: ResolvedConfig, repos: readonly RepoConfig[], deps: CycleDeps): Promise<Guarded<RemoteHead>>[] {
  const limit = limiter(deps.concurrency);
  const shared = new Map<string, Promise<Guarded<RemoteHead>>>();
  return repos.map((repo) => {
    const key = JSON.stringify([repo.remote, repo.branch ?? '', repo.tag ?? null, repo.semver ?? null, repo.credentials ?? null, repo.ssh]);
    let check = shared.get(key);
    if (check === undefined) {
      check = limit(async () => {
        const result = await guarded(() => checkRepo(config, repo, deps));
        if (!result.ok) return result;
        return result.value.ok ? ok(result.value.value) : err<TurnFailure>({ kind: 'git', error: result.value.error });
      });
      shared.set(key, check);
    }
    return check;
  });
}
