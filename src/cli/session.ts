// What `once` and `run` share: hold the state's instance lock, open the state, build the cycle's deps,
// say what a shutdown does, and always close the reporter and release the lock, whatever happens.

import path from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import { ensureOwnFolders, type CycleDeps } from '../cycle/turn.js';
import { Notifier } from '../notify/notifier.js';
import { Activity } from '../runtime/activity.js';
import { SHUTDOWN_GRACE_MS } from '../runtime/processes.js';
import { acquireInstanceLock } from '../state/instance-lock.js';
import { StateKeeper } from '../state/state-keeper.js';
import { startVerifier } from './verifier.js';
import { makeReporter, type CommandContext } from './context.js';
import { defaultConcurrency } from './defaults.js';
import { startWarnings } from './start-warnings.js';

const NOTIFY_DRAIN_MS = 10_000;

/** What a session gives its work besides the cycle's deps. */
export interface Session {
  /** What each repo's pipeline does now (the daemon's `status` asks it). */
  readonly activity: Activity;
}

/** `run`'s session: the pid file says it is a daemon, for commands that find no control socket. */
export function withDaemonSession<T>(ctx: CommandContext, config: ResolvedConfig, work: (deps: CycleDeps, session: Session) => Promise<T>): Promise<T> {
  return withStateSession(ctx, config, work, 'daemon');
}

export async function withStateSession<T>(
  ctx: CommandContext,
  config: ResolvedConfig,
  work: (deps: CycleDeps, session: Session) => Promise<T>,
  role?: 'daemon',
): Promise<T> {
  const { statePath } = config;
  for (const warning of await startWarnings(config, ctx)) ctx.stderr.write(`gitwatch: warning: ${warning}\n`);
  const lock = await acquireInstanceLock(statePath, ctx.processes, role);
  try {
    const state = await StateKeeper.open(statePath, ctx.processes.pid);
    await ensureOwnFolders(config);
    const verifier = await startVerifier(ctx, config, { sweep: true });
    const reporter = new Activity(await makeReporter(ctx), ctx.clock);
    const notifier = new Notifier({ reporter, clock: ctx.clock, env: ctx.env, groups: ctx.processes, cwd: path.dirname(config.file) });
    const git = await ctx.gitClient({
      onFallback: (origin, reason) => reporter.emit({ type: 'check-fallback', origin, reason }),
    });
    // A shutdown says at once which steps it waits for, and for how long; a second signal, what it killed.
    const offStop = ctx.onStop({
      stopping: (signal) => reporter.emit({ type: 'daemon-stopping', signal, waitingFor: reporter.allRunning(), graceMs: SHUTDOWN_GRACE_MS }),
      stoppingNow: (signal) => reporter.emit({ type: 'daemon-stopping-now', signal, killed: reporter.allRunning() }),
    });
    try {
      return await work(
        {
          git,
          env: ctx.env,
          reporter,
          clock: ctx.clock,
          state,
          groups: ctx.processes,
          signal: ctx.signal,
          concurrency: config.concurrency ?? defaultConcurrency(),
          onRunFinished: notifier.notify,
          verifier,
        },
        { activity: reporter },
      );
    } finally {
      offStop();
      // Its SSH masters end now rather than after the notifications drain (the CLI would close it anyway).
      await git.close();
      // Pending notifications hold up the exit at most this long (docs/operating.md, Notifications: 10 s).
      await notifier.close(NOTIFY_DRAIN_MS);
      await reporter.close();
    }
  } finally {
    const warning = await lock.release();
    if (warning !== undefined) ctx.stderr.write(`gitwatch: warning: ${warning}\n`);
  }
}
