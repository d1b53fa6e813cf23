// What `once` and `run` share: hold the state's instance lock, open the state, build the cycle's deps,
// and always close the reporter and release the lock, whatever happens.

import type { ResolvedConfig } from '../config/types.js';
import type { CycleDeps } from '../cycle/turn.js';
import { GitClient } from '../git/client.js';
import { acquireInstanceLock } from '../state/instance-lock.js';
import { StateKeeper } from '../state/state-keeper.js';
import { makeReporter, type CommandContext } from './context.js';
import { defaultConcurrency } from './defaults.js';

export async function withStateSession<T>(ctx: CommandContext, config: ResolvedConfig, work: (deps: CycleDeps) => Promise<T>): Promise<T> {
  const { statePath } = config;
  const lock = await acquireInstanceLock(statePath, ctx.processes);
  try {
    const state = await StateKeeper.open(statePath, ctx.processes.pid);
    const reporter = await makeReporter(ctx);
    try {
      return await work({
        git: new GitClient(ctx.env, ctx.processes),
        env: ctx.env,
        reporter,
        clock: ctx.clock,
        state,
        groups: ctx.processes,
        signal: ctx.signal,
        concurrency: config.concurrency ?? defaultConcurrency(),
      });
    } finally {
      await reporter.close();
    }
  } finally {
    await lock.release();
  }
}
