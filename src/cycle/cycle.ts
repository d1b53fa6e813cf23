// One cycle over a set of repos: check every remote (in parallel), then, in config order and one at a
// time, bring each changed repo's checkout to its new head, run its pipeline and record the result.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Env, RepoConfig, ResolvedConfig } from '../config/types.js';
import { GIT_STORE_DIR } from '../config/resolve.js';
import { GitError } from '../errors.js';
import type { GitClient, Remote, RemoteHead } from '../git/client.js';
import { runPipeline } from '../pipeline/pipeline.js';
import { pruneRunLogs, runLogPath } from '../pipeline/run-log.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import { limiter } from '../runtime/limiter.js';
import type { RepoState, RunRecord } from '../state/state-file.js';
import type { StateKeeper } from '../state/state-keeper.js';
import { decide } from './decide.js';

export interface CycleDeps {
  readonly git: GitClient;
  readonly env: Env;
  readonly reporter: Reporter;
  readonly clock: Clock;
  readonly state: StateKeeper;
  /** Aborted on shutdown. */
  readonly signal?: AbortSignal | undefined;
  /** Remote checks at once. */
  readonly concurrency: number;
  readonly graceMs?: number;
  /** Report repos that are up to date or waiting (off in the daemon after its first check, to keep logs quiet). */
  readonly reportIdle?: boolean;
}

export type Outcome = 'up-to-date' | 'waiting' | 'check-failed' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';

export interface RepoOutcome {
  readonly repo: string;
  readonly outcome: Outcome;
}

export type Check = { readonly ok: true; readonly head: RemoteHead } | { readonly ok: false; readonly error: GitError };

function remoteOf(repo: RepoConfig): Remote {
  return { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh };
}

export function storePath(config: ResolvedConfig, repo: string): string {
  return path.join(config.workdir, GIT_STORE_DIR, `${repo}.git`);
}

export async function runCycle(config: ResolvedConfig, repos: readonly RepoConfig[], deps: CycleDeps, triggered: ReadonlySet<string> = new Set()): Promise<RepoOutcome[]> {
  await mkdir(path.join(config.workdir, GIT_STORE_DIR), { recursive: true, mode: 0o700 });
  const checks = checkAll(config, repos, deps);
  // Fetches and checkouts run in parallel too, as soon as their check is in; pipelines wait their turn below.
  const limit = limiter(deps.concurrency);
  const prepared = repos.map(async (repo, i): Promise<Prepared> => {
    const check = await checks[i];
    if (check === undefined || !check.ok) return { kind: 'done', outcome: 'check-failed', error: check?.error ?? new GitError('other', 'not checked') };
    try {
      return await limit(() => prepareRun(config, repo, check.head, deps, triggered.has(repo.name)));
    } catch (err) {
      // A local failure (a checkout path that is a file, a full disk) fails this repo, not the cycle.
      return { kind: 'done', outcome: 'check-failed', error: new GitError('other', `${repo.name}: ${(err as Error).message}`) };
    }
  });
  const outcomes: RepoOutcome[] = [];
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
    const key = JSON.stringify([repo.remote, repo.branch ?? '', repo.credentials ?? null, repo.ssh]);
    let check = shared.get(key);
    if (check === undefined) {
      check = limit(() => checkRepo(config, repo, deps));
      shared.set(key, check);
    }
    return check;
  });
}

export async function checkRepo(config: ResolvedConfig, repo: RepoConfig, deps: CycleDeps): Promise<Check> {
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  const store = storePath(config, repo.name);
  try {
    await deps.git.ensureStore(store, call);
    const remote = remoteOf(repo);
    return { ok: true, head: await deps.git.lsRemote(store, remote, repo.branch, call) };
  } catch (err) {
    if (err instanceof GitError) return { ok: false, error: err };
    throw err;
  }
}

/** A repo after its check: nothing to run, or fetched and checked out, ready for its pipeline. */
export type Prepared =
  | { readonly kind: 'done'; readonly outcome: Outcome; readonly error?: GitError }
  | { readonly kind: 'ready'; readonly head: RemoteHead; readonly previousCommit: string | undefined };

/** Decides, and when the pipeline is to run, fetches exactly the head and makes the checkout that commit. */
export async function prepareRun(config: ResolvedConfig, repo: RepoConfig, head: RemoteHead, deps: CycleDeps, trigger: boolean): Promise<Prepared> {
  const { reporter } = deps;
  const entry = deps.state.entry(repo.name);
  const decision = decide(repo, head, entry, trigger);
  switch (decision.action) {
    case 'up-to-date':
      if (deps.reportIdle !== false) reporter.emit({ type: 'up-to-date', repo: repo.name, commit: head.sha });
      return { kind: 'done', outcome: 'up-to-date' };
    case 'wait':
      if (deps.reportIdle !== false) reporter.emit({ type: 'waiting', repo: repo.name, commit: head.sha, reason: decision.reason });
      return { kind: 'done', outcome: 'waiting' };
    case 'run':
      break;
  }
  const store = storePath(config, repo.name);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  try {
    // Repos on the same remote share one check, made in one of their stores: each fetches into its own.
    await deps.git.ensureStore(store, call);
    await deps.git.fetch(store, remoteOf(repo), head.sha, call);
    await deps.git.checkout(store, repo.checkout, head.sha, call);
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    // A failed fetch is a failed check: not written to the state, tried again on the next cycle.
    return err.kind === 'aborted' ? { kind: 'done', outcome: 'interrupted' } : { kind: 'done', outcome: 'check-failed', error: err };
  }
  return { kind: 'ready', head, previousCommit: entry?.commit };
}

/** Runs the pipeline of a prepared repo and records the result. Callers run one at a time. */
export async function runPrepared(config: ResolvedConfig, repo: RepoConfig, ready: Extract<Prepared, { kind: 'ready' }>, deps: CycleDeps): Promise<Outcome> {
  const { reporter, state, clock } = deps;
  const { head, previousCommit } = ready;
  const started = clock.now();
  reporter.emit({ type: 'run-started', repo: repo.name, branch: head.branch, commit: head.sha, previousCommit, steps: repo.pipeline.map((s) => s.name) });
  const log = runLogPath(config.workdir, repo.name, started, head.sha);
  const result = await runPipeline({ repo, branch: head.branch, commit: head.sha, previousCommit, logFile: log, env: deps.env, reporter, signal: deps.signal, graceMs: deps.graceMs });
  const finished = clock.now();
  const lastRun: RunRecord = { commit: head.sha, status: result.status, startedAt: started.toISOString(), finishedAt: finished.toISOString(), ...(result.error ? { error: result.error } : {}) };
  // Read the entry now, not when prepared: it is the state this run's result goes on top of.
  const entry = state.entry(repo.name);
  const next: RepoState =
    result.status === 'succeeded' ? { branch: head.branch, commit: head.sha, url: repo.displayUrl, lastRun } : { ...entry, lastRun };
  await state.update(repo.name, next);
  await pruneRunLogs(config.workdir, repo.name);
  reporter.emit({ type: 'run-finished', repo: repo.name, commit: head.sha, status: result.status, durationMs: finished.getTime() - started.getTime(), error: result.error, log });
  return result.status;
}
