// Each repo's recent runs for the status page's bar chart: from the lock's `history` when an entry has
// one, else from the run logs, which outlive the lock's single `lastRun`. A log's name says when its run
// started and of which commit; its last change, when the run ended; its last `<==` note, how the run
// ended (a failed step stops the run). The run in progress is left out: the page follows it live.

import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RepoState } from '../state/state-file.js';
import type { RecentRun } from '../http/status-page.js';
import { logDirOf } from './logs.js';

/** Bars per repo. */
export const RECENT_RUNS = 12;
/** How much of a log's end is read for its last note. */
const TAIL_BYTES = 4096;
/** Logs read at once, across repos: a page's first look at 1,000 repos must not use up the daemon's file descriptors. */
const AT_ONCE = 16;

const LOG_NAME = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z-([0-9a-f]+)\.log$/;

export async function recentRuns(
  workdir: string,
  names: readonly string[],
  repos: Readonly<Record<string, RepoState>>,
  running: (name: string) => boolean,
): Promise<Record<string, RecentRun[]>> {
  const out: Record<string, RecentRun[]> = {};
  const queue = [...names];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) out[name] = await runsOf(workdir, name, repos, running(name));
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  return out;
}

async function runsOf(workdir: string, name: string, repos: Readonly<Record<string, RepoState>>, running: boolean): Promise<RecentRun[]> {
  const entry = repos[name];
  const history = (entry as { history?: unknown } | undefined)?.history;
  if (Array.isArray(history)) return fromHistory(history);
  const dir = logDirOf(workdir, name, repos);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => LOG_NAME.test(f)).sort();
  const runs: RecentRun[] = [];
  // The newest log of a running repo is the run in progress.
  for (const file of files.slice(-RECENT_RUNS - 1, running ? -1 : undefined)) {
    const m = LOG_NAME.exec(file);
    if (!m) continue;
    const startedAt = `${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`;
    const info = await stat(path.join(dir, file)).catch(() => undefined);
    if (info === undefined) continue;
    const last = entry?.lastRun?.startedAt === startedAt ? entry.lastRun : undefined;
    const durationMs = last ? Date.parse(last.finishedAt) - Date.parse(startedAt) : info.mtimeMs - Date.parse(startedAt);
    runs.push({ startedAt, commit: m[6] ?? '', durationMs: Math.max(0, Math.round(durationMs)), status: last?.status ?? (await endOf(path.join(dir, file))) });
  }
  return runs.slice(-RECENT_RUNS);
}

/** The lock's history, in whatever order it keeps: the page wants the oldest first. */
function fromHistory(history: readonly unknown[]): RecentRun[] {
  const runs: RecentRun[] = [];
  for (const item of history) {
    if (typeof item !== 'object' || item === null) continue;
    const run = item as Record<string, unknown>;
    const startedAt = typeof run['startedAt'] === 'string' ? run['startedAt'] : '';
    const finishedAt = typeof run['finishedAt'] === 'string' ? run['finishedAt'] : '';
    const durationMs = typeof run['durationMs'] === 'number' ? run['durationMs'] : Date.parse(finishedAt) - Date.parse(startedAt);
    runs.push({
      startedAt,
      commit: typeof run['commit'] === 'string' ? run['commit'] : '',
      durationMs: Number.isFinite(durationMs) ? Math.max(0, durationMs) : 0,
      status: typeof run['status'] === 'string' ? run['status'] : 'unknown',
    });
  }
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(-RECENT_RUNS);
}

/** How a run ended, from its log's last step note: `<== label: succeeded`, or the step's error. */
async function endOf(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (handle === undefined) return 'unknown';
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(TAIL_BYTES, size));
    await handle.read(buffer, 0, buffer.length, size - buffer.length);
    const notes = buffer
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('<== '));
    const last = notes[notes.length - 1];
    if (last === undefined) return 'unknown';
    if (/: interrupted$/.test(last)) return 'interrupted';
    return /: succeeded$/.test(last) || / \(continue_on_error\)$/.test(last) ? 'succeeded' : 'failed';
  } finally {
    await handle.close();
  }
}
