// One repo's turn: check the remote, decide, fetch and check out, run the pipeline, record the result.
// `gitwatch once` (cycle.ts) and the daemon's workers (supervisor/) are both built from these pieces.

import { chmod, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { recordedFolder } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { err, ok, storeDir, storeRoot, WORKDIR_LAYOUT, type Env, type Outcome, type Result, type RunReason, type RunStatus } from '../domain.js';
import { GitError, IoError } from '../errors.js';
import type { GitCallOptions, GitClient, Remote, RemoteHead } from '../git/client.js';
import { selectTag } from '../git/ref-select.js';
import { checkoutCommit } from '../git/submodules.js';
import { runPipeline, type PipelineResult, type PipelineRun } from '../pipeline/pipeline.js';
import { pruneRunLogs, runLogPath } from '../pipeline/run-log.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { withHistory, type RepoState, type RunRecord } from '../state/state-file.js';
import type { StateKeeper } from '../state/state-keeper.js';
import type { Verifier } from '../verify/verifier.js';
import { decide } from './decide.js';
import { dropStalePin, pinnedWords, refusedById } from './pins.js';
import { admit } from './schedule.js';
import { skipReason } from './skip.js';
import { checkSignatures, forgetRefusal, knownRefusal } from './unverified.js';

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
  /** Told the result of every check that ran to its end (metrics). */
  readonly onCheck?: (repo: string, ok: boolean) => void;
  /** Runs a prepared pipeline (default: runPipeline, real processes); the daemon's model test gives its own. */
  readonly pipeline?: (run: PipelineRun) => Promise<PipelineResult>;
  /** Told how long each run waited for its turn in the pipeline queue (metrics). */
  readonly onQueueWait?: (repo: string, waitMs: number) => void;
  /** Told every turn that failed on this machine or on a bug in gitwatch (metrics). */
  readonly onTurnFailed?: (repo: string, kind: 'local' | 'internal') => void;
  /**
   * Told every finished run, after it is recorded, and every head newly refused for its signature
   * (notifications). Must not block.
   */
  readonly onRunFinished?: (run: FinishedRun) => void;
  /** Checks the signatures `verify:` asks for, and remembers what it refused. */
  readonly verifier: Verifier;
}

/** How a finished run ended, or `unverified`: a head refused for its signature, for which nothing ran. */
export type FinishedStatus = RunStatus | 'unverified';

/** A run as the state recorded it (or a head refused for its signature), with what came before it. */
export interface FinishedRun {
  readonly repo: RepoConfig;
  readonly branch: string;
  readonly tag?: string | undefined;
  readonly previousCommit: string | undefined;
  /** How the repo's last news ended: `recovered` is a success after a failure (or after a refused head). */
  readonly previousStatus: FinishedStatus | undefined;
  readonly run: Omit<RunRecord, 'status'> & { readonly status: FinishedStatus };
  readonly durationMs: number;
  /** The run log; none for a refused head, for which nothing ran. */
  readonly log: string | undefined;
}

export type { Outcome };

export interface RepoOutcome {
  readonly repo: string;
  readonly outcome: Outcome;
}

export type Check = Result<RemoteHead, GitError>;

function remoteOf(repo: RepoConfig): Remote {
  return { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh };
}

/**
 * gitwatch's own folders under the workdir, its owner's only (docs/security.md), whichever command comes
 * first: the workdir when it is made here, the git stores' folder, and the run logs' folder. Those two, left
 * open to others by an earlier gitwatch's `run`, are narrowed again; a workdir the user made keeps its mode.
 */
export async function ensureOwnFolders(config: ResolvedConfig): Promise<void> {
  await mkdir(storeRoot(config.workdir), { recursive: true, mode: 0o700 });
  for (const dir of Object.values(WORKDIR_LAYOUT).map((name) => path.join(config.workdir, name))) {
    const info = await lstat(dir).catch(() => undefined);
    // Another user's folder stays as it is (chmod fails); git and the run logs then say what they cannot do.
    if (info?.isDirectory() === true && (info.mode & 0o077) !== 0) await chmod(dir, 0o700).catch(() => undefined);
  }
}

export async function checkRepo(config: ResolvedConfig, repo: RepoConfig, deps: CycleDeps): Promise<Check> {
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  const store = storeDir(config.workdir, repo);
  try {
    const head = await remoteHead(deps.git, store, repo, call);
    deps.onCheck?.(repo.name, true);
    return ok(head);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    // Shutdown cut it short: that says nothing about the remote.
    if (error.kind !== 'aborted') deps.onCheck?.(repo.name, false);
    return err(error);
  }
}

/** The head a repo follows: its branch's (or the default branch's), or its highest matching tag's. */
export async function remoteHead(git: GitClient, store: string, repo: RepoConfig, call: GitCallOptions): Promise<RemoteHead> {
  // A `commit:` repo follows no ref: there is nothing to ask; the fetch by id says whether the remote has it.
  if (repo.commit !== undefined) return { sha: repo.commit, branch: '' };
  return repo.tag === undefined ? git.lsRemote(store, remoteOf(repo), repo.branch, call) : tagHead(git, store, repo, repo.tag, call);
}

/** The highest tag that matches: one `ls-remote` of the remote's tags, selected in process. */
async function tagHead(git: GitClient, store: string, repo: RepoConfig, glob: string, call: GitCallOptions): Promise<RemoteHead> {
  const refs = await git.listRefs(store, remoteOf(repo), ['refs/tags/'], call);
  const choice = selectTag(refs, glob, repo.semver);
  if (choice === undefined) {
    const range = repo.semver === undefined ? '' : ` within semver '${repo.semver}'`;
    throw new GitError('branch-missing', `checking ${repo.displayUrl}: no tag matches '${glob}'${range}`);
  }
  // An annotated tag is an object of its own (its ref peels to the commit); a lightweight one is the commit.
  const ref = `refs/tags/${choice.tag}`;
  const tagObject = refs.peeled.has(ref) ? refs.refs.get(ref) : undefined;
  return { sha: choice.sha, branch: '', tag: choice.tag, matching: choice.matching, ...(tagObject === undefined ? {} : { tagObject }) };
}

/** A repo after its check: nothing to run, or fetched and checked out, ready for its pipeline. */
export type Prepared =
  /** `refusal`: why an `unverified` head may not run. */
  | { readonly kind: 'done'; readonly outcome: Outcome; readonly error?: GitError; readonly refusal?: string }
  | {
      readonly kind: 'ready';
      readonly head: RemoteHead;
      readonly previousCommit: string | undefined;
      readonly cleaned: readonly string[];
      /** Tries of this commit, this one included (`retry`). */
      readonly attempt: number;
      readonly reason: RunReason;
      /** The first line of the commit's message, for the status page; undefined if it cannot be read. */
      readonly subject: string | undefined;
    };

/**
 * Decides, and when the pipeline is to run, fetches exactly the head and makes the checkout that commit. A
 * failed fetch is a failed check. One the remote refuses because the head is no longer advertised (a commit
 * landed since the check, on a server that lets only advertised commits be fetched) checks again, once, and
 * goes on with the new head.
 */
export async function prepareRun(
  config: ResolvedConfig,
  repo: RepoConfig,
  head: RemoteHead,
  deps: CycleDeps,
  trigger: boolean,
  rechecked = false,
): Promise<Prepared> {
  const { reporter } = deps;
  const entry = await dropStalePin(repo, deps);
  // The one admission rule says which commit may run: the head, or the commit the repo is pinned to.
  const admission = admit(repo, (name) => deps.state.entry(name), trigger);
  const pin = admission.admitted ? admission.pin : undefined;
  const remoteSha = head.sha;
  if (pin !== undefined) head = { ...head, sha: pin.commit };
  const decided = decide(repo, head, entry, trigger, deps.clock.now().getTime());
  // A pinned commit that runs is the operator's rollback, however the run came about (a trigger, a restart).
  const decision = pin?.by === 'rollback' && decided.action === 'run' && decided.reason !== 'retry' ? { ...decided, reason: 'rollback' as const } : decided;
  switch (decision.action) {
    case 'up-to-date':
      // Back at the lock's commit (a refused head was pushed away): the refusal is old news. A refusal of
      // this very commit (a trigger under new keys) still holds, and is not news again.
      if (entry?.unverified?.commit !== head.sha) await forgetRefusal(repo, deps);
      if (pin?.by === 'rollback' && remoteSha !== pin.commit) {
        if (deps.reportIdle !== false)
          reporter.emit({ type: 'waiting', repo: repo.name, commit: pin.commit, reason: pinnedWords(repo, pin.commit, remoteSha) });
      } else if (deps.reportIdle !== false) reporter.emit({ type: 'up-to-date', repo: repo.name, commit: head.sha });
      return { kind: 'done', outcome: 'up-to-date' };
    case 'wait':
      if (deps.reportIdle !== false) reporter.emit({ type: 'waiting', repo: repo.name, commit: head.sha, reason: decision.reason });
      return { kind: 'done', outcome: 'waiting' };
    case 'hold':
      // Nothing failed, so not an error; but said on every check, since the remote no longer has what the lock names.
      reporter.emit({ type: 'waiting', repo: repo.name, commit: entry?.commit ?? head.sha, reason: decision.reason });
      return { kind: 'done', outcome: 'up-to-date' };
    case 'run':
      break;
  }
  // A pinned commit is checked for its own signature: no tag vouches for it (unverified.ts).
  const signed = pin === undefined ? head : { ...head, tag: undefined, tagObject: undefined, pinned: true };
  const known = trigger ? undefined : await knownRefusal(repo, signed, deps);
  if (known !== undefined) return known;
  const store = storeDir(config.workdir, repo);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  let cleaned: string[] = [];
  // Read once: a skip marker and the run's subject both need it.
  let message: Promise<string> | undefined;
  const readMessage = (): Promise<string> => (message ??= deps.git.message(store, head.sha, call));
  try {
    // Repos on the same remote share one check, made in one of their stores: each fetches into its own.
    await deps.git.ensureStore(store, call);
    // A head that must be signed touches the checkout only once it is verified: nothing of an unverified
    // one, not even a clean of what the last run left (which may be what is deployed).
    if (repo.verify === undefined) cleaned = await deps.git.clean(store, repo.checkout, call);
    await deps.git.fetch(store, remoteOf(repo), head.sha, call, undefined, repo.depth);
    if (repo.verify !== undefined) {
      const refused = await checkSignatures(config, repo, signed, deps, { store, call, remote: remoteOf(repo) });
      if (refused !== undefined) return refused;
      cleaned = await deps.git.clean(store, repo.checkout, call);
    }
    const skip = await skipReason(repo, entry, decision, {
      message: readMessage,
      // The remote lets a shallow store fetch what the comparison needs (see GitClient.changes).
      changes: (from) => deps.git.changes(store, from, head.sha, call, remoteOf(repo)),
    });
    if (skip !== undefined) return { kind: 'done', outcome: await recordSkipped(repo, head, skip, deps) };
    await checkoutCommit(deps.git, { store, worktree: repo.checkout, sha: head.sha, remote: remoteOf(repo), depth: repo.depth }, call, repo.submodules);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    if (error.kind === 'aborted') return { kind: 'done', outcome: 'interrupted' };
    if (error.kind === 'unadvertised' && pin !== undefined) {
      deps.onCheck?.(repo.name, false);
      return { kind: 'done', outcome: 'check-failed', error: refusedById(repo, pin.commit) };
    }
    if (error.kind === 'unadvertised' && !rechecked) {
      const again = await checkRepo(config, repo, deps);
      if (!again.ok)
        return again.error.kind === 'aborted' ? { kind: 'done', outcome: 'interrupted' } : { kind: 'done', outcome: 'check-failed', error: again.error };
      if (again.value.sha !== head.sha) return prepareRun(config, repo, again.value, deps, trigger, true);
    }
    // A failed fetch is a failed check (the metrics count it so): not written to the state, tried again later.
    deps.onCheck?.(repo.name, false);
    return { kind: 'done', outcome: 'check-failed', error };
  }
  const subject = await commitSubject(readMessage);
  return { kind: 'ready', head, previousCommit: entry?.commit, cleaned, attempt: decision.attempt, reason: decision.reason, subject };
}

/** Longest subject kept: a title, not the message. */
const SUBJECT_MAX = 200;

/** The message's first line (the store holds the commit); only the status page needs it, so a failure costs nothing. */
async function commitSubject(message: () => Promise<string>): Promise<string | undefined> {
  try {
    const line = (await message()).split('\n', 1)[0]?.trim() ?? '';
    return line === '' ? undefined : [...line].slice(0, SUBJECT_MAX).join('');
  } catch {
    return undefined;
  }
}

/** A head that needs no run: the lock moves to it, recorded as `skipped` with the reason. */
async function recordSkipped(repo: RepoConfig, head: RemoteHead, reason: string, deps: CycleDeps): Promise<Outcome> {
  const now = deps.clock.now().toISOString();
  const previousCommit = deps.state.entry(repo.name)?.commit;
  const lastRun: RunRecord = { commit: head.sha, status: 'skipped', startedAt: now, finishedAt: now, reason };
  try {
    await deps.state.update(repo.name, (entry): RepoState => ({
      ...entry,
      ...followed(head),
      ...kept(repo),
      commit: head.sha,
      url: repo.displayUrl,
      lastRun,
      history: withHistory(entry?.history, lastRun),
      unverified: undefined,
    }));
  } catch (error) {
    if (!(error instanceof IoError)) throw error;
    deps.reporter.emit({ type: 'state-failed', repo: repo.name, commit: head.sha, status: 'skipped', error: error.message });
    return 'state-failed';
  }
  deps.reporter.emit({ type: 'run-skipped', repo: repo.name, commit: head.sha, previousCommit, reason });
  return 'skipped';
}

/**
 * Runs the pipeline of a prepared repo and records the result. Callers run one at a time. `cancel`
 * (`gitwatch cancel`) stops it like a timeout; the run counts as failed.
 */
export async function runPrepared(
  config: ResolvedConfig,
  repo: RepoConfig,
  ready: Extract<Prepared, { kind: 'ready' }>,
  deps: CycleDeps,
  cancel?: AbortSignal,
): Promise<Outcome> {
  const { reporter, state, clock } = deps;
  const { head, previousCommit, cleaned, attempt, reason, subject } = ready;
  const started = clock.now();
  const steps = repo.steps.map((s) => s.label);
  const jobs = repo.jobs.flatMap((job) => (job.name === undefined ? [] : [{ name: job.name, needs: job.needs, steps: job.steps }]));
  reporter.emit({
    type: 'run-started',
    repo: repo.name,
    branch: head.branch,
    tag: head.tag,
    commit: head.sha,
    subject,
    previousCommit,
    reason,
    attempt,
    steps,
    jobs: jobs.length > 0 ? jobs : undefined,
    cleaned,
  });
  const log = runLogPath(config.workdir, repo, started, head.sha);
  const result = await (deps.pipeline ?? runPipeline)({
    repo,
    branch: head.branch,
    tag: head.tag,
    commit: head.sha,
    previousCommit,
    logFile: log,
    env: deps.env,
    reporter,
    signal: deps.signal,
    cancel,
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
    // Counted for a repo with `retry`, whose tries depend on it.
    ...(repo.retry !== undefined ? { attempt } : {}),
    ...(subject !== undefined ? { subject } : {}),
  };
  // The news before this run, for `recovered`: read before this run's record replaces it. A refused head
  // was news of a failure, so a success after it is a recovery.
  const before = state.entry(repo.name);
  const previousStatus: FinishedStatus | undefined = before?.unverified !== undefined ? 'unverified' : before?.lastRun?.status;
  // The result goes on top of the entry as it is when written, not when prepared (a pause may come between).
  let unsaved: IoError | undefined;
  try {
    await state.update(repo.name, (entry): RepoState => {
      const history = withHistory(entry?.history, lastRun);
      // A verified commit ran: whatever head was refused before is no longer what the repo would run.
      return result.status === 'succeeded'
        ? { ...entry, ...followed(head), ...kept(repo), commit: head.sha, url: repo.displayUrl, lastRun, history, unverified: undefined }
        : { ...entry, ...kept(repo), lastRun, history, unverified: undefined };
    });
  } catch (error) {
    // Not a failed check and not a failed pipeline: the run's result is lost, so it is said as such.
    if (!(error instanceof IoError)) throw error;
    unsaved = error;
  }
  await pruneRunLogs(config.workdir, repo);
  const durationMs = finished.getTime() - started.getTime();
  if (unsaved === undefined) deps.onRunFinished?.({ repo, branch: head.branch, tag: head.tag, previousCommit, previousStatus, run: lastRun, durationMs, log });
  reporter.emit({ type: 'run-finished', repo: repo.name, commit: head.sha, status: result.status, durationMs, error: result.error, log });
  if (unsaved === undefined) return result.status;
  reporter.emit({ type: 'state-failed', repo: repo.name, commit: head.sha, status: result.status, error: unsaved.message });
  return 'state-failed';
}

/** A target in a folder of its own keeps it: its entry says so from its first run on (config/targets.ts). */
function kept(repo: RepoConfig): { folder?: string } {
  const folder = recordedFolder(repo);
  return folder === undefined ? {} : { folder };
}

/** What the lock records as followed: the branch, or the tag (and then no branch). */
export function followed(head: RemoteHead): { branch: string | undefined; tag: string | undefined } {
  // A `commit:` repo follows neither.
  return head.tag === undefined ? { branch: head.branch === '' ? undefined : head.branch, tag: undefined } : { branch: undefined, tag: head.tag };
}
