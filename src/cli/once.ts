// `gitwatch once [REPO...]`: one cycle over all (or the named) repos, then exit.

import { runCycle } from '../cycle/cycle.js';
import type { RepoOutcome } from '../cycle/turn.js';
import { isFailingOutcome } from '../domain.js';
import { EXIT, type ExitCode } from '../errors.js';
import { loadForCommand, selectRepos } from './config-input.js';
import type { CommandContext } from './context.js';
import { withStateSession } from './session.js';

export async function onceCommand(names: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { config } = await loadForCommand(ctx);
  selectRepos(config, names);
  return withStateSession(ctx, config, async (deps) => onceExitCode(await runCycle(config, selectRepos(config, names, deps.state.current.repos), deps)));
}

/** A head that failed before and waits for a newer commit is still broken: cron and CI stay red. */
export function onceExitCode(outcomes: readonly RepoOutcome[]): ExitCode {
  return outcomes.some((o) => isFailingOutcome(o.outcome)) ? EXIT.failed : EXIT.ok;
}
