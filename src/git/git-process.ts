// One git command through the process-group runner. git starts helpers of its own (`sh` and `ssh` for
// SSH remotes, `git-upload-pack` and `git pack-objects` for local ones): a time limit or shutdown stops
// the whole group, and whatever of it outlives git is stopped too, so none of them outlives the command
// or gitwatch. Its output is collected whole, up to a cap.

import { GitError } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import { runInGroup, type StopReason } from '../runtime/process-group.js';
import type { ProcessGroups } from '../runtime/processes.js';

export interface GitProcessOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly groups: ProcessGroups;
  readonly clock: Clock;
  /**
   * The most memory (MiB) git and its helpers may each take for their data, set with the shell's `ulimit -d`
   * before git starts: what git reads from a remote into memory (a ref advertisement) cannot grow past it.
   */
  readonly memoryLimitMiB?: number | undefined;
}

export interface GitProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why gitwatch stopped it, if it did ('timeout', 'aborted' or 'too-much-output'). */
  readonly stopped: StopReason | undefined;
  /** git could not be started at all. */
  readonly spawnError: NodeJS.ErrnoException | undefined;
}

/**
 * The memory git (and each of its helpers) may take for a check. A 64 MiB advertisement, the most the
 * in-process check reads (about a million refs), takes git about 320 MiB; a remote that sends more fails.
 */
export const CHECK_MEMORY_MIB = 512;

/** A memory-capped command that failed because the remote sent more than the cap allows, said so; else undefined. */
export function tooMuchFromRemote(result: GitProcessResult, context: string, limitMiB: number): GitError | undefined {
  if (result.stopped === 'too-much-output') return new GitError('too-large', `${context}: the remote sends too much: git listed more refs than a check reads`);
  if (result.code === 0 || !/Out of memory|Cannot allocate memory/i.test(result.stderr)) return undefined;
  return new GitError(
    'too-large',
    `${context}: the remote sends too much: git ran out of the ${limitMiB} MiB a check may use, reading its refs`,
    result.stderr.slice(0, 8192),
  );
}

/** More than any ls-remote gitwatch asks for; the rest of git's output is not read. */
const MAX_OUTPUT = 64 * 1024 * 1024;
/** git and its helpers exit at once on SIGTERM; this is for one that does not. */
const KILL_AFTER_MS = 2000;
/**
 * How long git's output may still arrive once it has exited. On a loaded machine the last bytes can take a
 * while to be read, and an ls-remote cut short loses its HEAD line; a helper that outlives git and holds
 * the pipes is stopped, so this is only ever waited for in full by a machine that is that slow.
 */
const CLOSE_MS = 10_000;

export async function runGitProcess(args: readonly string[], options: GitProcessOptions): Promise<GitProcessResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  // `exec` keeps git's pid, so its process group and signals are the same as without the limit. The
  // arguments reach git as "$@", never as shell text; a shell without `ulimit -d` runs git without it.
  const limit = options.memoryLimitMiB;
  const [file, argv] = limit === undefined ? ['git', args] : ['/bin/sh', ['-c', `ulimit -d ${limit * 1024} 2>/dev/null; exec git "$@"`, 'git', ...args]];
  const result = await runInGroup(file, argv, {
    env: options.env,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    graceMs: { default: KILL_AFTER_MS },
    maxOutput: MAX_OUTPUT,
    onOutput: (chunk, from) => void (from === 'stdout' ? out : err).push(chunk),
    leftovers: 'stop',
    drainMs: CLOSE_MS,
    groups: options.groups,
    clock: options.clock,
  });
  return {
    code: result.code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    stopped: result.stopped,
    spawnError: result.spawnError,
  };
}
