// The kinds of failure gitwatch knows, and their exit codes. How they read to a user is decided in one
// place, src/cli/describe-error.ts.

import type { Diagnostic } from './domain.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad command line, unknown repo name, missing config file. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The config does not parse or validate; every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    /** The config's text, for the excerpts under each problem. */
    readonly source: string,
  ) {
    const n = diagnostics.length;
    super(`${diagnostics[0]?.file ?? 'config'}: ${n} problem${n === 1 ? '' : 's'}`);
  }
}

/** The state file cannot be read, or another gitwatch holds it. */
export class StateError extends Error {
  override readonly name = 'StateError';
}

/** A local failure at run time (disk full, permissions): the run stops, nothing already recorded is lost. */
export class IoError extends Error {
  override readonly name = 'IoError';
}

/**
 * Why a git command failed. Transient kinds (the network, a timeout, a server error) clear up by
 * themselves and are retried with a growing backoff; permanent ones (a refused login, an unknown host key,
 * a missing repository or branch, a name git will not take, a local remote owned by another user, a remote
 * whose objects are corrupt, a remote that advertises more refs than a check reads) need a person, so they are reported once and
 * retried at the longest backoff.
 */
export type GitErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'auth'
  | 'host-key'
  | 'tls'
  | 'not-found'
  | 'branch-missing'
  | 'invalid-name'
  | 'dubious-ownership'
  | 'corrupt'
  | 'too-large'
  /** The remote would not send a commit it no longer advertises (a commit landed since the check). */
  | 'unadvertised'
  | 'aborted'
  | 'other';

const PERMANENT: ReadonlySet<GitErrorKind> = new Set([
  'auth',
  'host-key',
  'tls',
  'not-found',
  'branch-missing',
  'invalid-name',
  'dubious-ownership',
  'corrupt',
  'too-large',
]);

export function isPermanent(kind: GitErrorKind): boolean {
  return PERMANENT.has(kind);
}

export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly kind: GitErrorKind,
    message: string,
    /** git's whole stderr, credentials removed: the cause behind the one line in `message`. */
    readonly stderr = '',
  ) {
    super(message, stderr === '' ? undefined : { cause: stderr });
  }

  get permanent(): boolean {
    return isPermanent(this.kind);
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof StateError) return EXIT.usage;
  return EXIT.failed;
}
