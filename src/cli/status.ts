// `gitwatch status [--json]`: per repo, the branch, the processed commit, the last run and its result.
// Repos removed from the config but still in the state are listed as removed.

import { EXIT, type ExitCode } from '../errors.js';
import { readState, type RepoState } from '../state/state-file.js';
import { loadForCommand } from './config-input.js';
import type { CommandContext } from './context.js';

interface StatusRow {
  readonly name: string;
  readonly configured: boolean;
  readonly url: string | null;
  readonly branch: string | null;
  readonly commit: string | null;
  readonly lastRun: RepoState['lastRun'] | null;
}

export async function statusCommand(options: { json: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const { config } = await loadForCommand(ctx);
  const state = await readState(config.statePath);
  const rows: StatusRow[] = config.repos.map((repo) => {
    const entry = state.repos[repo.name];
    return {
      name: repo.name,
      configured: true,
      url: repo.displayUrl,
      branch: repo.branch ?? entry?.branch ?? null,
      commit: entry?.commit ?? null,
      lastRun: entry?.lastRun ?? null,
    };
  });
  for (const [name, entry] of Object.entries(state.repos).sort(([a], [b]) => a.localeCompare(b))) {
    if (config.repos.some((r) => r.name === name)) continue;
    rows.push({ name, configured: false, url: entry.url ?? null, branch: entry.branch ?? null, commit: entry.commit ?? null, lastRun: entry.lastRun ?? null });
  }
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify({ state: config.statePath, repos: rows }, null, 2)}\n`);
    return EXIT.ok;
  }
  ctx.stdout.write(table(rows, ctx.clock.now()));
  return EXIT.ok;
}

function table(rows: readonly StatusRow[], now: Date): string {
  const header = ['REPO', 'BRANCH', 'COMMIT', 'LAST RUN', 'RESULT'];
  const body = rows.map((r) => [
    r.configured ? r.name : `${r.name} (removed)`,
    r.branch ?? '(default)',
    r.commit?.slice(0, 12) ?? '-',
    r.lastRun ? `${ago(new Date(r.lastRun.finishedAt), now)} (${r.lastRun.commit.slice(0, 12)})` : 'never',
    r.lastRun ? `${r.lastRun.status}${r.lastRun.error ? `: ${r.lastRun.error}` : ''}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

function ago(then: Date, now: Date): string {
  // A hand-edited state may hold anything there; say so rather than print "NaNd ago".
  if (Number.isNaN(then.getTime())) return 'unknown time';
  const s = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
