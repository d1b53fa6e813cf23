// The kinds of failure gitwatch knows, and the one place that maps them to exit codes.

import type { Diagnostic } from './config/diagnostics.js';
import { formatDiagnostic } from './config/diagnostics.js';

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
    readonly source: string,
  ) {
    super(diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
  }

  format(): string {
    const n = this.diagnostics.length;
    const file = this.diagnostics[0]?.file ?? 'config';
    const body = this.diagnostics.map((d) => formatDiagnostic(d, this.source)).join('\n\n');
    return `${body}\n\n${file}: ${n} problem${n === 1 ? '' : 's'}`;
  }
}

/** The state file cannot be read, or another gitwatch holds it. */
export class StateError extends Error {
  override readonly name = 'StateError';
}

export type GitErrorKind = 'unreachable' | 'auth' | 'not-found' | 'branch-missing' | 'host-key' | 'timeout' | 'aborted' | 'other';

export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly kind: GitErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof StateError) return EXIT.usage;
  return EXIT.failed;
}

/** The text a user sees for an error that reached the command line. */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError) return err.format();
  if (err instanceof UsageError || err instanceof StateError || err instanceof GitError || err instanceof IoError) return `gitwatch: ${err.message}`;
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `gitwatch: internal error (this is a bug; please report it with the lines below)\n${detail.split('\n').slice(0, 6).join('\n')}`;
}

/** A local failure at run time (disk full, permissions): the run stops, nothing already recorded is lost. */
export class IoError extends Error {
  override readonly name = 'IoError';
}
