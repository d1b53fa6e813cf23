// `gitwatch plan [--json] [REPO...]`: what the next cycle would do per repo, and why; changes nothing.

import { planRepos, type PlanEntry } from '../cycle/plan.js';
import { shortSha } from '../domain.js';
import { EXIT, type ExitCode } from '../errors.js';
import { readState } from '../state/state-file.js';
import { loadForCommand, selectRepos } from './config-input.js';
import type { CommandContext } from './context.js';
import { defaultConcurrency } from './defaults.js';
import { textTable } from './table.js';

export async function planCommand(names: readonly string[], options: { json: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const { config } = await loadForCommand(ctx);
  const repos = selectRepos(config, names);
  // Read, never locked: a daemon may hold the state, and plan writes nothing.
  const state = await readState(config.statePath);
  const plan = await planRepos(config, repos, state, {
    git: await ctx.gitClient(),
    env: ctx.env,
    clock: ctx.clock,
    concurrency: config.concurrency ?? defaultConcurrency(),
    signal: ctx.signal,
  });
  ctx.stdout.write(options.json ? `${JSON.stringify({ repos: plan }, null, 2)}\n` : render(plan));
  return plan.some((p) => p.decision === 'check failed') ? EXIT.failed : EXIT.ok;
}

function render(plan: readonly PlanEntry[]): string {
  const rows = plan.map((p) => [p.name, p.decision, p.commit === null ? '-' : shortSha(p.commit), p.reason]);
  return `${textTable(['REPO', 'NEXT', 'HEAD', 'WHY'], rows).join('\n')}\n`;
}
