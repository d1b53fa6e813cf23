// Where each run's full output is kept: <workdir>/logs/<repo>/<time>-<commit>.log, the newest few per repo.
// A run of jobs also keeps each job's output apart, in <time>-<commit>.jobs/<job>.log; the run's own log
// then holds every job's lines in the order they came, each marked with its job.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runLogDir, shortSha, type FolderOwner } from '../domain.js';

export const KEEP_LOGS = 50;

export function runLogPath(workdir: string, repo: FolderOwner, startedAt: Date, commit: string): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  return path.join(runLogDir(workdir, repo), `${stamp}-${shortSha(commit)}.log`);
}

/** Names sort by time, so the oldest go first. */
export async function pruneRunLogs(workdir: string, repo: FolderOwner, keep = KEEP_LOGS): Promise<void> {
  const dir = runLogDir(workdir, repo);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.log')).sort();
  const old = files.slice(0, Math.max(0, files.length - keep));
  await Promise.all(old.flatMap((f) => [rm(path.join(dir, f), { force: true }), rm(path.join(dir, jobLogDirName(f)), { recursive: true, force: true })]));
}

function jobLogDirName(runLog: string): string {
  return `${path.basename(runLog, '.log')}.jobs`;
}

/** Where one job's own output of a run is kept. */
export function jobLogPath(runLog: string, job: string): string {
  return path.join(path.dirname(runLog), jobLogDirName(runLog), `${job}.log`);
}

/** What a job's steps write to: their bytes, their lines (for the run's combined log) and gitwatch's notes. */
export interface JobLog {
  write(chunk: Buffer): void;
  line(line: string): void;
  note(line: string): void;
}

/** The logs of one run: the run log, and one per job when the repo has jobs. Best effort: a full disk must not stop a step. */
export class RunLogs {
  private readonly streams: WriteStream[] = [];
  private readonly logs: CappedRunLog[] = [];
  private readonly main: CappedRunLog;

  constructor(
    private readonly file: string,
    private readonly cap = RUN_LOG_CAP,
  ) {
    this.main = this.open(file);
  }

  private open(file: string): CappedRunLog {
    const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    // The run log is best effort: a full disk must not crash gitwatch mid-step (the state write reports it).
    stream.on('error', () => undefined);
    this.streams.push(stream);
    const log = new CappedRunLog(stream, this.cap);
    this.logs.push(log);
    return log;
  }

  note(line: string): void {
    this.main.note(line);
  }

  /** A `pipeline` (no job name) writes its bytes to the run log as they come. */
  forJob(job: string | undefined): JobLog {
    const main = this.main;
    if (job === undefined) return { write: (chunk) => main.write(chunk), line: () => undefined, note: (line) => main.note(line) };
    const file = jobLogPath(this.file, job);
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    } catch {
      // Best effort, as above: the job's lines still reach the run log.
    }
    const own = this.open(file);
    return {
      write: (chunk) => own.write(chunk),
      line: (line) => main.write(Buffer.from(`[${job}] ${line}\n`)),
      note: (line) => {
        own.note(line);
        main.note(line);
      },
    };
  }

  async close(): Promise<void> {
    for (const log of this.logs) log.finish();
    await Promise.all(
      this.streams.map(
        (stream) =>
          new Promise<void>((resolve) => {
            stream.once('error', () => resolve());
            stream.end(() => resolve());
          }),
      ),
    );
  }
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
