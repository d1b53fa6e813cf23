// `gitwatch plan`: what the next cycle would do per repo, and why. It asks the same questions as the
// cycle (check, decide, skip rules) through the same functions, and fetches only what a skip rule needs,
// under a ref of its own in the repo's private store. It writes no state, touches no checkout, runs no
// step, and takes no instance lock, so it works beside a running daemon.

import { isBranchGlob } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { shortSha, storeDir, type Env } from '../domain.js';
import { GitError } from '../errors.js';
import { PLAN_REF, type GitClient, type Remote, type RemoteHead } from '../git/client.js';
import { PLAN_TAG_REF } from '../git/signature.js';
import type { Clock } from '../runtime/clock.js';
import { limiter } from '../runtime/limiter.js';
import { RUN_REASON_WORDS } from '../runtime/run-words.js';
import type { RepoState, State } from '../state/state-file.js';
import type { Verifier } from '../verify/verifier.js';
import { decide, type Decision } from './decide.js';
import { admit } from './schedule.js';
import { skipReason } from './skip.js';
import { listTargets, type Target } from './targets.js';
import { pinnedWords } from './pins.js';
import { ensureOwnFolders, remoteHead } from './turn.js';

export type PlanDecision = 'run' | 'skip' | 'up to date' | 'pinned' | 'waits' | 'check failed' | 'paused' | 'disabled' | 'unverified';

export interface PlanEntry {
  readonly name: string;
  readonly decision: PlanDecision;
  readonly reason: string;
  /** The remote's head, when the check answered. */
  readonly commit: string | null;
  /** The lock's commit. */
  readonly previousCommit: string | null;
  /** For a new commit: how many commits it is ahead of the lock's, when that was counted. */
  readonly commits: number | null;
}

export interface PlanDeps {
  readonly git: GitClient;
  readonly env: Env;
  readonly clock: Clock;
  readonly concurrency: number;
  readonly signal?: AbortSignal | undefined;
  /** A daemon's run in progress for a repo (or target), which the state file does not show until it ends. */
  readonly running?: ((name: string) => RunInProgress | undefined) | undefined;
  /** Checks the signatures `verify:` asks for, as the cycle would. */
  readonly verifier: Verifier;
}

export interface RunInProgress {
  readonly commit: string;
  /** ISO. */
  readonly startedAt: string;
}

export async function planRepos(config: ResolvedConfig, repos: readonly RepoConfig[], state: State, deps: PlanDeps): Promise<PlanEntry[]> {
  await ensureOwnFolders(config);
  const limit = limiter(deps.concurrency);
  const planned = await Promise.all(
    repos.map((repo) =>
      limit(async (): Promise<PlanEntry[]> => (isBranchGlob(repo) ? planGlob(config, repo, state, deps) : [await planRepo(config, repo, state, deps)])),
    ),
  );
  return planned.flat().map((entry) => withRunInProgress(entry, deps.running?.(entry.name)));
}

/**
 * The lock learns of a run only when it ends, so without this a daemon's first run of a repo, or its run
 * of a newer commit, would be planned as if nothing ran it. The head's own run is said as running now; a
 * run of another commit is added to what the next cycle does once it ends.
 */
function withRunInProgress(entry: PlanEntry, run: RunInProgress | undefined): PlanEntry {
  if (run === undefined) return entry;
  const now = `running now (started ${run.startedAt})`;
  if (entry.commit === run.commit) return { ...entry, decision: 'run', reason: now };
  return { ...entry, reason: `${entry.reason}; ${shortSha(run.commit)} ${now}` };
}

/** A branch glob: one listing of the remote's branches, then each target as a repo of its own (in branch order). */
async function planGlob(config: ResolvedConfig, repo: RepoConfig & { branch: string }, state: State, deps: PlanDeps): Promise<PlanEntry[]> {
  const base = { name: repo.name, previousCommit: null, commit: null, commits: null };
  const admission = admit(repo, (name) => state.repos[name], false);
  if (!admission.admitted) return [{ ...base, decision: admission.hold, reason: admission.reason }];
  const store = storeDir(config.workdir, repo);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  let targets: Target[];
  try {
    await deps.git.ensureStore(store, call, { sweep: false });
    targets = await listTargets(deps.git, store, repo, call, state.repos);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return [{ ...base, decision: 'check failed', reason: error.message }];
  }
  // One after another, in the glob's own slot of the limit: waiting for more slots from inside one could deadlock.
  const out: PlanEntry[] = [];
  for (const t of targets) out.push(await planRepo(config, t.repo, state, deps, t.head));
  return out;
}

async function planRepo(config: ResolvedConfig, repo: RepoConfig, state: State, deps: PlanDeps, known?: RemoteHead): Promise<PlanEntry> {
  const entry = state.repos[repo.name];
  const previousCommit = entry?.commit ?? null;
  const base = { name: repo.name, previousCommit, commit: null, commits: null };
  // The same rule as the cycle's: a target of a paused glob is paused too.
  const admission = admit(repo, (name) => state.repos[name], false);
  if (!admission.admitted) return { ...base, decision: admission.hold, reason: admission.reason };
  const store = storeDir(config.workdir, repo);
  const call = { timeoutMs: repo.gitTimeoutMs, signal: deps.signal };
  const remote: Remote = { url: repo.remote, credentials: repo.credentials, ssh: repo.ssh };
  let head: RemoteHead;
  try {
    await deps.git.ensureStore(store, call, { sweep: false });
    head = known ?? (await remoteHead(deps.git, store, repo, call));
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return { ...base, decision: 'check failed', reason: error.message };
  }
  // The same pin the cycle runs (admit): the head is shown, the pinned commit is what is decided on.
  const pin = admission.pin;
  const remoteSha = head.sha;
  if (pin !== undefined) head = { ...head, sha: pin.commit };
  const decided = decide(repo, head, entry, false, deps.clock.now().getTime());
  const decision = pin?.by === 'rollback' && decided.action === 'run' && decided.reason !== 'retry' ? { ...decided, reason: 'rollback' as const } : decided;
  const at = { ...base, commit: head.sha };
  switch (decision.action) {
    case 'up-to-date':
      if (pin !== undefined) return { ...at, commit: remoteSha, decision: 'pinned', reason: pinnedWords(repo, pin.commit, remoteSha) };
      return { ...at, decision: 'up to date', reason: `at ${shortSha(head.sha)}` };
    case 'wait':
      return { ...at, decision: 'waits', reason: decision.reason };
    case 'hold':
      return { ...at, decision: 'up to date', reason: decision.reason };
    case 'run':
      break;
  }
  // Fetched only when a signature, a skip rule or the commit count needs the head.
  const needsHistory = repo.verify !== undefined || repo.skipMarkers.length > 0 || repo.paths !== undefined || decision.reason === 'new-commit';
  if (!needsHistory) return { ...at, decision: 'run', reason: runReason(decision, entry, head, undefined) };
  try {
    await deps.git.fetch(store, remote, head.sha, call, PLAN_REF, repo.depth);
    // The cycle verifies before anything else, and a refused head goes no further: nor does the plan.
    const fetchTag = (sha: string): Promise<void> => deps.git.fetch(store, remote, sha, call, PLAN_TAG_REF, repo.depth);
    const signed = pin === undefined ? head : { ...head, tag: undefined, tagObject: undefined, pinned: true };
    const refusal = await deps.verifier.check(repo, signed, { git: deps.git, workdir: config.workdir, store, call, fetchTag });
    if (refusal !== undefined) return { ...at, decision: 'unverified', reason: `unverified: ${refusal}` };
    const facts = {
      message: () => deps.git.message(store, head.sha, call),
      changes: (from: string) => deps.git.changes(store, from, head.sha, call, remote),
    };
    const skip = await skipReason(repo, entry, decision, facts);
    if (skip !== undefined) return { ...at, decision: 'skip', reason: skip };
    if (decision.reason !== 'new-commit' || entry?.commit === undefined) return { ...at, decision: 'run', reason: runReason(decision, entry, head, undefined) };
    const changes = await facts.changes(entry.commit);
    if (!changes.descendant) return { ...at, decision: 'run', reason: `force push: ${shortSha(head.sha)} does not descend from ${shortSha(entry.commit)}` };
    const commits = await deps.git.countCommits(store, entry.commit, head.sha, call);
    return { ...at, decision: 'run', reason: runReason(decision, entry, head, commits), commits };
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return { ...at, decision: 'check failed', reason: error.message };
  }
}

function runReason(decision: Extract<Decision, { action: 'run' }>, entry: RepoState | undefined, head: RemoteHead, commits: number | undefined): string {
  switch (decision.reason) {
    case 'first':
    case 'retry-interrupted':
    case 'trigger':
    case 'rollback':
      return RUN_REASON_WORDS[decision.reason];
    case 'new-commit': {
      const from = entry?.commit === undefined ? '?' : shortSha(entry.commit);
      return `new commit ${from} → ${shortSha(head.sha)}${commits === undefined ? '' : ` (${commits} commit${commits === 1 ? '' : 's'})`}`;
    }
    case 'moved':
      return entry?.branch !== head.branch ? `branch changed: ${entry?.branch ?? '?'} → ${head.branch}` : 'url changed';
    case 'retry':
      return `retry due: try ${decision.attempt}`;
  }
}
