// Why a process could not be started, in words: the kernel's refusals that an operator can act on.

const WHY: Readonly<Record<string, string>> = {
  EMFILE: 'too many open files in gitwatch',
  ENFILE: 'too many open files on the system',
  EAGAIN: 'too many processes',
  ENOMEM: 'out of memory',
  ENOENT: 'not found',
  EACCES: 'permission denied',
};

/** `too many open files in gitwatch (EMFILE)`; Node's own message for a code without words here. */
export function spawnFailure(error: NodeJS.ErrnoException | string): string {
  const code = typeof error === 'string' ? error : error.code;
  const why = code === undefined ? undefined : WHY[code];
  if (why !== undefined) return `${why} (${code})`;
  return typeof error === 'string' ? error : error.message;
}
