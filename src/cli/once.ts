// `gitwatch once [REPO...]`: one cycle over all (or the named) repos, then exit.

import { runCycle } from '../cycle/cycle.js';
import { EXIT, type ExitCode } from '../errors.js';
import { GitClient } from '../git/client.js';
import { acquireInstanceLock } from '../state/instance-lock.js';
import { StateKeeper } from '../state/state-keeper.js';
import { loadForCommand, selectRepos } from './config-input.js';
import { makeReporter, type CommandContext } from './context.js';
import { defaultConcurrency } from './defaults.js';

export async function onceCommand(names: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { config } = await loadForCommand(ctx);
  const repos = selectRepos(config, names);
  const lock = await acquireInstanceLock(config.statePath);
  try {
    const state = await StateKeeper.open(config.statePath);
    const reporter = await makeReporter(ctx);
    try {
      const outcomes = await runCycle(config, repos, {
        git: new GitClient(ctx.env),
        env: ctx.env,
        reporter,
        clock: ctx.clock,
        state,
        signal: ctx.signal,
        concurrency: defaultConcurrency(),
      });
      const bad = outcomes.some((o) => o.outcome === 'failed' || o.outcome === 'interrupted' || o.outcome === 'check-failed');
      return bad ? EXIT.failed : EXIT.ok;
    } finally {
      await reporter.close();
    }
  } finally {
    await lock.release();
  }
}
