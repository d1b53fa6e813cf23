// The one place an exception in a repo's turn becomes data. A git error keeps its kind; a failure of this
// machine (disk full, permission denied, a path that is a file) is `local`; anything else is a bug in
// gitwatch, `internal`, kept with its stack. Callers convert once, where the turn ends, and never rethrow:
// one repo's failure must not end the daemon or touch another repo's run.

import { GitError, IoError } from '../errors.js';

export type TurnFailure =
  | { readonly kind: 'git'; readonly error: GitError }
  | { readonly kind: 'local'; readonly message: string }
  | { readonly kind: 'internal'; readonly message: string; readonly stack: string | undefined };

/** errno codes that mean this machine, not gitwatch, is in the way. */
const LOCAL_CODES: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'ENOENT',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'EIO',
  'ELOOP',
  'ENAMETOOLONG',
  'EBUSY',
  'ETXTBSY',
]);

export function toTurnFailure(error: unknown): TurnFailure {
  if (error instanceof GitError) return { kind: 'git', error };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof IoError || (typeof code === 'string' && LOCAL_CODES.has(code))) return { kind: 'local', message: (error as Error).message };
  if (error instanceof Error) return { kind: 'internal', message: error.message, stack: error.stack };
  return { kind: 'internal', message: String(error), stack: undefined };
}

/** One line for people: what failed, and where a bug is a bug. */
export function describeFailure(failure: TurnFailure): string {
  switch (failure.kind) {
    case 'git':
      return failure.error.message;
    case 'local':
      return `local failure: ${failure.message}`;
    case 'internal':
      return `internal error (this is a bug in gitwatch): ${failure.message}`;
  }
}

/** The kind as metrics, `status` and the JSON events name it. */
export function failureKind(failure: TurnFailure): string {
  return failure.kind === 'git' ? failure.error.kind : failure.kind;
}
