// One repo's turn: check the remote, decide, fetch and check out, run the pipeline, record the result.
// `gitwatch once` (cycle.ts) and the daemon's workers (supervisor/) are both built from these pieces.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { err, ok, storeDir, type Env, type Result } from '../domain.js';
import { GitError, IoError } from '../errors.js';
import type { GitClient, Remote, RemoteHead } from '../git/client.js';
import { runPipeline } from '../pipeline/pipeline.js';
import { pruneRunLogs, runLogPath } from '../pipeline/run-log.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import type { ProcessGroups } from '../runtime/processes.js';
import type { RepoState, RunRecord } from '../state/state-file.js';
import type { StateKeeper } from '../state/state-keeper.js';
import { decide } from './decide.js';

export interface CycleDeps {
  readonly git: GitClient;
  readonly env: Env;
  readonly reporter: Reporter;
  readonly clock: Clock;
  readonly state: StateKeeper;
  /** Step process groups, for timeouts, shutdown and a hard exit. */
  readonly groups: ProcessGroups;
  /** Aborted on shutdown. */
  readonly signal?: AbortSignal | undefined;
  /** Remote checks at once. */
  readonly concurrency: number;
  readonly graceMs?: number;
  /** Report repos that are up to date or waiting (off in the daemon after its first check, to keep logs quiet). */
  readonly reportIdle?: boolean;
}

/** `state-failed`: the run ended but its result could not be written, so it counts as not done. */
export type Outcome = 'up-to-date' | 'waiting' | 'check-failed' | 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'state-failed';

export interface RepoOutcome {
  readonly repo: string;
  readonly outcome: Outcome;
}

export type Check = Result<RemoteHead, GitError>;

function remoteOf(repo: RepoConfig): Remote {
  return { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh };
}

/** The folder that holds every repo's private git store. */
export async function ensureStoreRoot(config: ResolvedConfig): Promise<void> {
  await mkdir(path.dirname(storeDir(config.workdir, '_')), { recursive: true, mode: 0o700 });
}

export async function checkRepo(config: ResolvedConfig, repo: RepoConfig, deps: CycleDeps): Promise<Check> {
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  const store = storeDir(config.workdir, repo.name);
  try {
    await deps.git.ensureStore(store, call);
    return ok(await deps.git.lsRemote(store, remoteOf(repo), repo.branch, call));
  } catch (error) {
    if (error instanceof GitError) return err(error);
    throw error;
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
  const store = storeDir(config.workdir, repo.name);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  try {
    // Repos on the same remote share one check, made in one of their stores: each fetches into its own.
    await deps.git.ensureStore(store, call);
    await deps.git.fetch(store, remoteOf(repo), head.sha, call);
    await deps.git.checkout(store, repo.checkout, head.sha, call);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    // A failed fetch is a failed check: not written to the state, tried again on the next cycle.
    return error.kind === 'aborted' ? { kind: 'done', outcome: 'interrupted' } : { kind: 'done', outcome: 'check-failed', error };
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
  const result = await runPipeline({
    repo,
    branch: head.branch,
    commit: head.sha,
    previousCommit,
    logFile: log,
    env: deps.env,
    reporter,
    signal: deps.signal,
    graceMs: deps.graceMs,
    clock,
    groups: deps.groups,
  });
  const finished = clock.now();
  const lastRun: RunRecord = {
    commit: head.sha,
    status: result.status,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    ...(result.error ? { error: result.error } : {}),
  };
  // Read the entry now, not when prepared: it is the state this run's result goes on top of.
  const entry = state.entry(repo.name);
  const next: RepoState = result.status === 'succeeded' ? { branch: head.branch, commit: head.sha, url: repo.displayUrl, lastRun } : { ...entry, lastRun };
  let unsaved: IoError | undefined;
  try {
    await state.update(repo.name, next);
  } catch (error) {
    // Not a failed check and not a failed pipeline: the run's result is lost, so it is said as such.
    if (!(error instanceof IoError)) throw error;
    unsaved = error;
  }
  await pruneRunLogs(config.workdir, repo.name);
  reporter.emit({
    type: 'run-finished',
    repo: repo.name,
    commit: head.sha,
    status: result.status,
    durationMs: finished.getTime() - started.getTime(),
    error: result.error,
    log,
  });
  if (unsaved === undefined) return result.status;
  reporter.emit({ type: 'state-failed', repo: repo.name, commit: head.sha, status: result.status, error: unsaved.message });
  return 'state-failed';
}
