// The one place an error that reached the command line becomes the text a user reads.

import { formatDiagnostics } from '../config/diagnostics.js';
import { ConfigError, GitError, IoError, StateError, UsageError } from '../errors.js';

export function describeError(error: unknown): string {
  if (error instanceof ConfigError) return formatDiagnostics(error.diagnostics, error.source);
  if (error instanceof UsageError || error instanceof StateError || error instanceof GitError || error instanceof IoError) return `gitwatch: ${error.message}`;
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `gitwatch: internal error (this is a bug; please report it with the lines below)\n${detail.split('\n').slice(0, 6).join('\n')}`;
}
