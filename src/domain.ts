// The shapes and predicates every part of gitwatch shares. This module imports nothing, so any folder may
// import it without creating a cycle (test/layering.test.ts holds that).

/** The environment as a map: the process's, or one built for a child. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A failure that is data rather than an exception: one shape everywhere. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** Taken out of an http(s) URL; handed to git through its credential helper, never on a command line. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** SSH private key and known_hosts files (absolute paths), for SSH remotes. */
export interface SshSettings {
  readonly key: string | undefined;
  readonly knownHosts: string | undefined;
}

/** A full commit id: SHA-1 or SHA-256. */
export const SHA_PATTERN = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function isSha(value: string): boolean {
  return SHA_PATTERN.test(value);
}

export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

/** How a run ended, as the lock file records it. */
export type RunStatus = 'succeeded' | 'failed' | 'skipped' | 'interrupted';
export const RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'skipped', 'interrupted'];

/**
 * Why a run starts: a repo never run, a new head, a changed url or branch, a commit whose run was cut
 * short, a retry of a failed run, `gitwatch trigger`, or `gitwatch rollback` (a commit an operator pinned). Decided in cycle/decide.ts, said in words by
 * runtime/run-words.ts.
 */
export type RunReason = 'first' | 'new-commit' | 'moved' | 'retry-interrupted' | 'retry' | 'trigger' | 'rollback';

/** How a step ended. `canceled`: stopped by `gitwatch cancel`. */
export type StepStatus = 'succeeded' | 'failed' | 'timed-out' | 'interrupted' | 'canceled';

/**
 * How a repo's turn ended: the one outcome type of `once`, the daemon and `trigger --wait`. Words for
 * people and for JSON are made from it at the edges. `state-failed`: the run ended but its result could not
 * be written, so it counts as not done. `turn-failed`: a local failure (disk full, permissions) or a bug,
 * not the remote's doing. `unverified`: `verify:` refused the head's signature, so nothing ran.
 */
export type Outcome =
  | 'up-to-date'
  | 'waiting'
  | 'paused'
  | 'disabled'
  | 'check-failed'
  | 'turn-failed'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'interrupted'
  | 'state-failed'
  | 'unverified';

/** The outcomes that make `once` exit 1: something failed, or the head waits after a failure or a refusal. */
export function isFailingOutcome(outcome: Outcome): boolean {
  return ['failed', 'waiting', 'interrupted', 'check-failed', 'turn-failed', 'state-failed', 'unverified'].includes(outcome);
}

/** What a daemon's repo worker does now. */
export type Phase = 'idle' | 'checking' | 'queued' | 'running' | 'backoff' | 'paused' | 'disabled' | 'stopped';

/** A repo's phase as `status` shows it: a daemon that is shutting down shows its running repos `stopping`. */
export type StatusPhase = Phase | 'stopping';

/** A config problem located in its file; it prints as `FILE:LINE:COL: message (at key.path)`. */
export interface Diagnostic {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  readonly message: string;
  readonly path: string;
}

/**
 * The workdir's own folders. A repo's checkout may not lie inside them, and the repo name `logs` is
 * reserved because run logs live in `<workdir>/logs/<repo>/`.
 */
export const WORKDIR_LAYOUT = {
  logs: 'logs',
  gitStore: '.git-store',
  /** The keys `verify:` checks signatures against (verify/keyring.ts). */
  keyrings: '.keyrings',
} as const;

/** The state file when the config names none, beside the config. */
export const DEFAULT_STATE_FILE = '.gitwatch.lock.json';

/** The folder that holds every repo's private git store. */
export function storeRoot(workdir: string): string {
  return `${workdir}/${WORKDIR_LAYOUT.gitStore}`;
}

/**
 * A repo, or a branch glob's target, as far as its folders go. A target's `folder` is its branch as one
 * folder name (config/targets.ts chooses it, so that no two targets share one).
 */
export interface FolderOwner {
  readonly name: string;
  readonly target?: { readonly repo: string; readonly folder: string } | undefined;
}

/** The name of `unit`'s own folders: the repo's name, or `<repo>@<folder>` for a target. */
export function folderName(unit: FolderOwner): string {
  return unit.target === undefined ? unit.name : `${unit.target.repo}@${unit.target.folder}`;
}

/** The private bare repository gitwatch fetches into for a repo or a branch target. */
export function storeDir(workdir: string, unit: FolderOwner): string {
  return `${storeRoot(workdir)}/${folderName(unit)}.git`;
}

/** Where a repo's (or a target's) run logs are kept. */
export function runLogDir(workdir: string, unit: FolderOwner): string {
  return `${workdir}/${WORKDIR_LAYOUT.logs}/${folderName(unit)}`;
}

/** A branch as one folder name: its `/` written as `-` (`release/1.0` → `release-1.0`). */
export function fileName(branch: string): string {
  return branch.replaceAll('/', '-');
}

/** `site@release/1.0` → `site`; a plain repo name is its own. */
export function repoOfTarget(name: string): string {
  const at = name.indexOf('@');
  return at === -1 ? name : name.slice(0, at);
}
