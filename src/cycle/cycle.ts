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
  const outcomes: RepoOutcome[] = [];
  for (const [i, repo] of repos.entries()) {
    const check = await checks[i];
    if (deps.signal?.aborted) {
      outcomes.push({ repo: repo.name, outcome: 'interrupted' });
      continue;
    }
    if (check === undefined || !check.ok) {
      const error = check?.error ?? new GitError('other', 'not checked');
      deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: error.message, kind: error.kind });
      outcomes.push({ repo: repo.name, outcome: 'check-failed' });
      continue;
    }
    outcomes.push({ repo: repo.name, outcome: await processRepo(config, repo, check.head, deps, triggered.has(repo.name)) });
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

export async function processRepo(config: ResolvedConfig, repo: RepoConfig, head: RemoteHead, deps: CycleDeps, trigger: boolean): Promise<Outcome> {
  const { reporter, state, clock } = deps;
  const entry = state.entry(repo.name);
  const decision = decide(repo, head, entry, trigger);
  switch (decision.action) {
    case 'up-to-date':
      if (deps.reportIdle !== false) reporter.emit({ type: 'up-to-date', repo: repo.name, commit: head.sha });
      return 'up-to-date';
    case 'wait':
      if (deps.reportIdle !== false) reporter.emit({ type: 'waiting', repo: repo.name, commit: head.sha, reason: decision.reason });
      return 'waiting';
    case 'run':
      break;
  }
  const started = clock.now();
  const store = storePath(config, repo.name);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  try {
    await deps.git.fetch(store, remoteOf(repo), head.sha, call);
    await deps.git.checkout(store, repo.checkout, head.sha, call);
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    if (err.kind === 'aborted') return 'interrupted';
    reporter.emit({ type: 'check-failed', repo: repo.name, error: err.message, kind: err.kind });
    return 'check-failed';
  }
  const previousCommit = entry?.commit;
  reporter.emit({ type: 'run-started', repo: repo.name, branch: head.branch, commit: head.sha, previousCommit, steps: repo.pipeline.map((s) => s.name) });
  const log = runLogPath(config.workdir, repo.name, started, head.sha);
  const result = await runPipeline({ repo, branch: head.branch, commit: head.sha, previousCommit, logFile: log, env: deps.env, reporter, signal: deps.signal, graceMs: deps.graceMs });
  const finished = clock.now();
  const lastRun: RunRecord = { commit: head.sha, status: result.status, startedAt: started.toISOString(), finishedAt: finished.toISOString(), ...(result.error ? { error: result.error } : {}) };
  const next: RepoState =
    result.status === 'succeeded' ? { branch: head.branch, commit: head.sha, url: repo.displayUrl, lastRun } : { ...entry, lastRun };
  await state.update(repo.name, next);
  await pruneRunLogs(config.workdir, repo.name);
  reporter.emit({ type: 'run-finished', repo: repo.name, commit: head.sha, status: result.status, durationMs: finished.getTime() - started.getTime(), error: result.error, log });
  return result.status;
}

/** Runs at most `n` of the given tasks at once. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
