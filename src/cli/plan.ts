// `gitwatch plan [--json] [REPO...]`: what the next cycle would do per repo, and why; changes nothing.

import { askDaemon, firstReply } from '../control/client.js';
import { planRepos, type PlanEntry, type RunInProgress } from '../cycle/plan.js';
import { shortSha } from '../domain.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { readState } from '../state/state-file.js';
import { loadForCommand, selectRepos } from './config-input.js';
import type { CommandContext } from './context.js';
import { defaultConcurrency } from './defaults.js';
import { startWarnings } from './start-warnings.js';
import { textTable } from './table.js';
import { startVerifier } from './verifier.js';

export async function planCommand(names: readonly string[], options: { json: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const { config } = await loadForCommand(ctx);
  // An unknown name exits 2 before anything is asked.
  selectRepos(config, names);
  for (const warning of await startWarnings(config, ctx)) ctx.stderr.write(`gitwatch: warning: ${warning}\n`);
  // Asked before the state is read: a run that ends in between is still said as running, never missed.
  const runs = await runsInProgress(config.statePath, ctx);
  // Read, never locked: a daemon may hold the state, and plan writes nothing.
  const state = await readState(config.statePath);
  // Its keyrings are made if none is there yet; never swept, since a daemon of another config may use them.
  const verifier = await startVerifier(ctx, config, { sweep: false });
  const plan = await planRepos(config, selectRepos(config, names, state.repos), state, {
    verifier,
    git: await ctx.gitClient(),
    env: ctx.env,
    clock: ctx.clock,
    concurrency: config.concurrency ?? defaultConcurrency(),
    signal: ctx.signal,
    running: (name) => runs.get(name),
  });
  ctx.stdout.write(options.json ? `${JSON.stringify({ repos: plan }, null, 2)}\n` : render(plan));
  return plan.some((p) => p.decision === 'check failed' || p.decision === 'unverified') ? EXIT.failed : EXIT.ok;
}

/**
 * The runs a daemon on this state has in progress, by repo (or target) name; none without a daemon. A
 * daemon that does not answer costs the plan only this knowledge, which stderr says.
 */
async function runsInProgress(statePath: string, ctx: CommandContext): Promise<ReadonlyMap<string, RunInProgress>> {
  const runs = new Map<string, RunInProgress>();
  try {
    const connection = await askDaemon(statePath, { op: 'status' }, ctx.uid, ctx.signal, ctx.processes);
    if (!connection.daemon) return runs;
    const reply = await firstReply(connection);
    if (!reply.ok || !('status' in reply)) throw new UsageError(reply.ok ? 'unexpected answer to status' : reply.error);
    for (const repo of reply.status.repos) {
      // A daemon from before runs were reported says nothing of them.
      if (typeof repo.runCommit === 'string' && typeof repo.runStartedAt === 'string')
        runs.set(repo.name, { commit: repo.runCommit, startedAt: repo.runStartedAt });
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    ctx.stderr.write(`gitwatch: cannot tell which runs are in progress: ${error.message}; the plan is from the state file alone\n`);
  }
  return runs;
}

function render(plan: readonly PlanEntry[]): string {
  const rows = plan.map((p) => [p.name, p.decision, p.commit === null ? '-' : shortSha(p.commit), p.reason]);
  return `${textTable(['REPO', 'NEXT', 'HEAD', 'WHY'], rows).join('\n')}\n`;
}
