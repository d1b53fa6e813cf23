// `gitwatch status [--json]`: per repo, the branch, the processed commit, the last run and its result; with
// a daemon on the same state, also what each repo does now. Removed repos still in the state are listed.

import { askDaemon, daemonError, firstReply } from '../control/client.js';
import type { RepoStatus, StatusReport } from '../control/protocol.js';
import { shortSha } from '../domain.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { formatShard } from '../rules/shard.js';
import { formatDuration } from '../rules/duration.js';
import { locateConfig, locateState } from '../config/locate.js';
import type { CommandContext } from './context.js';
import { textTable } from './table.js';

export async function statusCommand(options: { json: boolean }, ctx: CommandContext): Promise<ExitCode> {
  // With a daemon, its config is the one that counts: only the state path is needed to reach it.
  const statePath = await locateState(locateConfig(ctx.global.config, ctx.cwd, ctx.env), ctx.env);
  const connection = await askDaemon(statePath, { op: 'status' }, ctx.uid, ctx.signal, ctx.processes);
  let report: StatusReport;
  if (connection.daemon) {
    const reply = await firstReply(connection);
    if (!reply.ok) throw daemonError(reply);
    if (!('status' in reply)) throw daemonError({ ok: false, error: 'unexpected answer to status', usage: false });
    // A daemon from before shards says nothing of them: it runs every repo.
    report = { ...reply.status, shard: reply.status.shard ?? null };
    const asked = ctx.global.shard === undefined ? null : formatShard(ctx.global.shard);
    if (asked !== null && asked !== report.shard)
      throw new UsageError(`the daemon on ${statePath} runs ${report.shard === null ? 'every repo' : `shard ${report.shard}`}, not shard ${asked}`);
  } else {
    // Loaded only here: parsing the config (and the glob and version matching the report needs) is most of
    // what `status` costs, and a daemon has done it already.
    const [{ loadForCommand }, { buildStatus }, { readState }] = await Promise.all([
      import('./config-input.js'),
      import('./status-report.js'),
      import('../state/state-file.js'),
    ]);
    const { config } = await loadForCommand(ctx);
    report = buildStatus(config, await readState(config.statePath), null);
  }
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.ok;
  }
  // On a terminal the table fits its width; a pipe gets every cell whole.
  const columns = (ctx.stdout as { isTTY?: boolean; columns?: number }).isTTY === true ? (ctx.stdout as { columns?: number }).columns : undefined;
  ctx.stdout.write(render(report, ctx.clock.now(), columns));
  return EXIT.ok;
}

function render(report: StatusReport, now: Date, columns: number | undefined): string {
  const { daemon } = report;
  // Without a daemon the table is all there is, as scripts that read it have always seen it.
  const doing = report.repos.some((r) => r.phase === 'stopping') ? 'stopping' : 'running';
  const shard = report.shard === null ? '' : `shard ${report.shard}`;
  const head = daemon
    ? [`gitwatch ${doing} (pid ${daemon.pid}, up ${since(daemon.startedAt, now)}), config ${daemon.config}${shard && `, ${shard}`}`, '']
    : shard
      ? [`${shard}: this shard's repos only`, '']
      : [];
  // A repo follows a branch, a tag or a branch glob: one column says which.
  const header = ['REPO', 'FOLLOWS', 'COMMIT', ...(daemon ? ['NOW', 'NEXT CHECK'] : []), 'LAST RUN', 'RESULT'];
  const body = report.repos.map((r) => {
    const glob = r.configured && r.tag === null && r.branch !== null && /[*?[]/.test(r.branch);
    const targets = report.repos.filter((t) => t.name.startsWith(`${r.name}@`) && !t.gone).length;
    const result = [
      r.paused && !daemon ? 'paused' : '',
      r.pinned === null ? '' : `pinned at ${shortSha(r.pinned.commit)}${r.head !== null && r.head !== r.pinned.commit ? `; head is ${shortSha(r.head)}` : ''}`,
      !r.enabled && !daemon ? 'disabled' : '',
      // A branch glob runs nothing itself: its targets are the rows below it.
      glob ? (targets === 0 ? 'no branch matches' : `${targets} branch${targets === 1 ? '' : 'es'}`) : '',
      r.lastRun ? `${r.lastRun.status}${r.lastRun.error ? `: ${r.lastRun.error}` : r.lastRun.reason ? `: ${r.lastRun.reason}` : ''}` : '',
      // The head waits on a signature: said after the last run, which it did not replace.
      r.unverified ? `unverified: ${r.unverified.reason}` : '',
    ].filter((part) => part !== '');
    return [
      r.configured ? (r.gone ? `${r.name} (gone)` : r.name) : `${r.name} (removed)`,
      r.pinned?.reason === 'config' ? `commit ${shortSha(r.pinned.commit)}` : r.tag !== null ? `tag ${r.tag}` : (r.branch ?? '(default)'),
      r.commit ? shortSha(r.commit) : '-',
      ...(daemon ? [phaseText(r, now), r.nextCheckAt ? `in ${until(r.nextCheckAt, now)}` : '-'] : []),
      r.lastRun ? `${ago(r.lastRun.finishedAt, now)} (${shortSha(r.lastRun.commit)})` : glob ? '-' : 'never',
      result.length > 0 ? result.join('; ') : '-',
    ];
  });
  const errors = report.repos.filter((r) => r.lastCheckError).map((r) => `${r.name}: check failed: ${r.lastCheckError}`);
  return [...head, ...textTable(header, body, columns), ...(errors.length > 0 ? ['', ...errors] : [])].join('\n') + '\n';
}

function phaseText(r: RepoStatus, now: Date): string {
  if ((r.phase === 'running' || r.phase === 'stopping') && r.step) return `${r.phase} ${r.step}${r.stepStartedAt ? ` (${since(r.stepStartedAt, now)})` : ''}`;
  if (r.phase === 'queued' && r.waitingFor) return `queued (${r.waitingFor})`;
  return r.phase ?? '-';
}

function seconds(from: string, to: Date): number | undefined {
  const t = Date.parse(from);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((to.getTime() - t) / 1000));
}

function span(s: number | undefined): string {
  if (s === undefined) return '?';
  return s < 60 ? `${s}s` : formatDuration(s * 1000);
}

function since(iso: string, now: Date): string {
  return span(seconds(iso, now));
}

function until(iso: string, now: Date): string {
  const t = Date.parse(iso);
  return span(Number.isNaN(t) ? undefined : Math.max(0, Math.round((t - now.getTime()) / 1000)));
}

function ago(iso: string, now: Date): string {
  const s = seconds(iso, now);
  if (s === undefined) return 'unknown time';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
