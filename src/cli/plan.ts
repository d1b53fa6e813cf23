// `gitwatch plan [--json] [REPO...]`: what the next cycle would do per repo, and why; changes nothing.

import { planRepos, type PlanEntry } from '../cycle/plan.js';
import { shortSha } from '../domain.js';
import { EXIT, type ExitCode } from '../errors.js';
import { GitClient } from '../git/client.js';
import { readState } from '../state/state-file.js';
import { loadForCommand, selectRepos } from './config-input.js';
import type { CommandContext } from './context.js';
import { defaultConcurrency } from './defaults.js';

export async function planCommand(names: readonly string[], options: { json: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const { config } = await loadForCommand(ctx);
  const repos = selectRepos(config, names);
  // Read, never locked: a daemon may hold the state, and plan writes nothing.
  const state = await readState(config.statePath);
  const plan = await planRepos(config, repos, state, {
    git: new GitClient(ctx.env, ctx.processes, ctx.clock),
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
  const header = ['REPO', 'NEXT', 'HEAD', 'WHY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
