// Where each run's full output is kept: <workdir>/logs/<repo>/<time>-<commit>.log, the newest few per repo.

import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runLogDir, shortSha } from '../domain.js';

export const KEEP_LOGS = 50;

export function runLogPath(workdir: string, repo: string, startedAt: Date, commit: string): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  return path.join(runLogDir(workdir, repo), `${stamp}-${shortSha(commit)}.log`);
}

/** Names sort by time, so the oldest go first. */
export async function pruneRunLogs(workdir: string, repo: string, keep = KEEP_LOGS): Promise<void> {
  const dir = runLogDir(workdir, repo);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.log')).sort();
  await Promise.all(files.slice(0, Math.max(0, files.length - keep)).map((f) => rm(path.join(dir, f), { force: true })));
}
