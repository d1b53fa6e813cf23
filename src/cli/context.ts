// What every command receives instead of reading `process`: the I/O and environment of one invocation.

import type { Writable } from 'node:stream';
import type { Env } from '../domain.js';
import type { GitClient, GitClientOptions } from '../git/client.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import type { ProcessGroups } from '../runtime/processes.js';
import type { Shard } from '../rules/shard.js';
import { JsonReporter, PlainReporter, type Verbosity } from '../runtime/line-reporter.js';

export interface GlobalOptions {
  readonly config?: string | undefined;
  readonly logFormat: 'pretty' | 'json';
  readonly color: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** `--shard I/N` (or `GITWATCH_SHARD`) on the commands that take it: only this shard's repos. */
  readonly shard?: Shard | undefined;
}

export interface CommandContext {
  readonly cwd: string;
  readonly env: Env;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** stdout is a terminal that can show the live view: a TTY with a size, and a TERM that is not `dumb`. */
  readonly liveTerminal: boolean;
  readonly clock: Clock;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Calls `listener` on SIGHUP; returns the function that removes it. */
  onHangup(listener: () => void): () => void;
  /** The user gitwatch runs as (undefined where there are no uids): a control socket must be this user's. */
  readonly uid: number | undefined;
  /**
   * Who says what a shutdown does: told of the first SIGINT/SIGTERM before anything is stopped, and of a
   * second one after every process group was killed. Without one, the CLI says it on stderr. Returns the
   * function that removes it.
   */
  onStop(listener: StopListener): () => void;
  /** gitwatch's pid, and the process groups of its steps. */
  readonly processes: ProcessGroups;
  /**
   * The command's git client. The CLI closes every client it gave out when the command ends, however it
   * ends (its answer, an error, a signal): an SSH master keeps the process alive until its client is closed.
   */
  gitClient(options?: GitClientOptions): Promise<GitClient>;
  /** 0 ≤ random() < 1: the daemon's jitter. */
  readonly random: () => number;
  readonly global: GlobalOptions;
}

export interface StopListener {
  stopping(signal: string): void;
  stoppingNow(signal: string): void;
}

export async function makeReporter(ctx: CommandContext): Promise<Reporter> {
  const verbosity: Verbosity = ctx.global.quiet ? 'quiet' : ctx.global.verbose ? 'verbose' : 'normal';
  if (ctx.global.logFormat === 'json') return new JsonReporter({ out: ctx.stdout, err: ctx.stderr, verbosity, now: () => ctx.clock.now() });
  if (ctx.liveTerminal && ctx.env['CI'] === undefined) {
    // listr2 is loaded only when a terminal will show it.
    const { TtyReporter } = await import('../runtime/tty-reporter.js');
    return new TtyReporter({ out: ctx.stdout, err: ctx.stderr, quiet: ctx.global.quiet, verbose: ctx.global.verbose, color: ctx.global.color });
  }
  return new PlainReporter({ out: ctx.stdout, err: ctx.stderr, verbosity });
}
