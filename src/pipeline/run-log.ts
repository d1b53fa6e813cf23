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

/** A run log keeps at most this much step output; what a runaway step prints past it is counted, not kept. */
export const RUN_LOG_CAP = 10 * 1024 * 1024;

/** Where the run log takes its bytes: a file stream in gitwatch, anything with `write` in tests. */
export interface LogSink {
  write(chunk: string | Buffer): unknown;
}

/**
 * The run log of one run. gitwatch's own lines (step start and end) are always written; step output
 * only up to the cap, then one marker line where it was cut, and at the end how much was left out.
 */
export class CappedRunLog {
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly sink: LogSink,
    private readonly cap = RUN_LOG_CAP,
  ) {}

  /** Step output, as it comes. */
  write(chunk: Buffer): void {
    const room = Math.max(0, this.cap - this.kept);
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length > 0) this.sink.write(part);
    this.kept += part.length;
    if (part.length === chunk.length) return;
    // The marker goes where the output was cut, once, whether the cap fell inside a chunk or between two.
    if (this.dropped === 0) this.sink.write(`\n[gitwatch: output cut here: this run's log reached its cap of ${formatBytes(this.cap)}]\n`);
    this.dropped += chunk.length - part.length;
  }

  /** gitwatch's own line; never cut. */
  note(line: string): void {
    this.sink.write(`${line}\n`);
  }

  /** The last line, when output was cut: how much the log does not hold. */
  finish(): void {
    if (this.dropped > 0) this.note(`[gitwatch: ${this.dropped} bytes of output past the cap were not kept]`);
  }
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}
