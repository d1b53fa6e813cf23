// `gitwatch logs [-f] REPO`: the newest run's output from its run log, with a header; `-f` follows the
// log as it grows and moves on to each new run, until Ctrl-C. Run logs hold every byte a step printed,
// so reading them works the same with a daemon, during a `once`, or with nothing running, and while the
// config file has a problem (a daemon keeps running the config it accepted). To a pipe or a file those
// bytes go as they are; a terminal gets each line as plain output shows it, so what a step printed (a clear
// screen, a window title) cannot drive the reader's terminal.

import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import { repoOfTarget, runLogDir } from '../domain.js';
import { ConfigError, EXIT, UsageError, type ExitCode } from '../errors.js';
import { readState, type RunRecord, type RepoState } from '../state/state-file.js';
import { loadConfig } from '../config/load.js';
import { locateConfig, locatePaths } from '../config/locate.js';
import { elsewhere } from '../config/shard.js';
import { parseTargetName, targetFolder } from '../config/targets.js';
import { LINE_CUT_MARK, MAX_LINE } from '../pipeline/step-process.js';
import { plainLine } from '../rules/safe-text.js';
import type { CommandContext } from './context.js';

const POLL_MS = 200;

export async function logsCommand(name: string, options: { follow: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const other = elsewhere(name, ctx.global.shard);
  if (other !== undefined) throw new UsageError(other);
  const paths = await logsOf(name, ctx);
  const dir = logDirOf(paths.workdir, name, (await readState(paths.statePath)).repos);
  // Any terminal, a dumb one too, would act on a step's control sequences; a pipe or file gets the bytes.
  const out = (ctx.stdout as { isTTY?: boolean }).isTTY === true ? new TerminalLines(ctx.stdout) : ctx.stdout;
  let current = await newestLog(dir);
  if (current === undefined && !options.follow) {
    out.write(`${name}: no runs yet\n`);
    return EXIT.ok;
  }
  let offset = 0;
  try {
    if (current !== undefined) {
      out.write(header(name, current, (await readState(paths.statePath)).repos[name]?.lastRun));
      offset = await copyFrom(path.join(dir, current), 0, out);
    }
    while (options.follow && !ctx.signal.aborted) {
      await ctx.clock.sleep(POLL_MS, ctx.signal);
      if (current !== undefined) offset = await copyFrom(path.join(dir, current), offset, out);
      const newest = await newestLog(dir);
      if (newest !== undefined && newest !== current) {
        current = newest;
        if (out instanceof TerminalLines) out.end();
        out.write(header(name, current, undefined));
        offset = await copyFrom(path.join(dir, current), 0, out);
      }
    }
  } finally {
    if (out instanceof TerminalLines) out.end();
  }
  return EXIT.ok;
}

/**
 * Where `name`'s run logs and state entry are, for a configured repo, a glob's target, or an entry the state
 * still holds. A config that does not load still has its run logs: they are found without it (see
 * locatePaths) for a name the state or the logs know; any other name gets the config's problem.
 */
async function logsOf(name: string, ctx: CommandContext): Promise<{ workdir: string; statePath: string }> {
  const location = locateConfig(ctx.global.config, ctx.cwd, ctx.env);
  try {
    const { config } = await loadConfig(location, ctx.env);
    const state = await readState(config.statePath);
    if (!config.repos.some((r) => r.name === name) && parseTargetName(config, name) === undefined && state.repos[name] === undefined) {
      throw new UsageError(`unknown repo '${name}' (configured: ${config.repos.map((r) => r.name).join(', ')})`);
    }
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const { statePath, workdir } = await locatePaths(location, ctx.env);
    if (statePath === undefined || workdir === undefined) throw error;
    const state = await readState(statePath);
    if (state.repos[name] === undefined && (await newestLog(logDirOf(workdir, name, state.repos))) === undefined) throw error;
    return { statePath, workdir };
  }
}

/**
 * What `gitwatch logs NAME` prints without `-f`, as bytes go to a pipe: the newest run's header and log,
 * or that there is none. The status page serves it.
 */
export async function newestLogText(workdir: string, name: string, repos: Readonly<Record<string, RepoState>>): Promise<string> {
  const dir = logDirOf(workdir, name, repos);
  const current = await newestLog(dir);
  if (current === undefined) return `${name}: no runs yet\n`;
  // copyFrom reuses its buffer: each chunk is copied as it comes.
  const chunks: Buffer[] = [Buffer.from(header(name, current, repos[name]?.lastRun))];
  await copyFrom(path.join(dir, current), 0, { write: (chunk) => chunks.push(Buffer.from(chunk)) });
  return Buffer.concat(chunks).toString('utf8');
}

/** A target's logs are in its folder, which the lock may name (config/targets.ts); a repo's under its name. */
export function logDirOf(workdir: string, name: string, repos: Readonly<Record<string, RepoState>>): string {
  const glob = repoOfTarget(name);
  const target = glob === name ? undefined : { repo: glob, folder: targetFolder(glob, name.slice(glob.length + 1), repos) };
  return runLogDir(workdir, { name, target });
}

/** Log names start with the run's start time, so the newest sorts last. */
export async function newestLog(dir: string): Promise<string | undefined> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.log')).sort();
  return files[files.length - 1];
}

function header(repo: string, file: string, lastRun: RunRecord | undefined): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z-([0-9a-f]+)\.log$/.exec(file);
  const started = m ? `${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z` : 'unknown';
  // The state records a run when it ends; a log newer than the last recorded run is still running (or was cut off).
  const status = lastRun !== undefined && lastRun.startedAt === started ? lastRun.status : 'running or unfinished';
  return `==> ${repo} run of ${m?.[6] ?? '?'} started ${started}: ${status}\n`;
}

/** Writes what the file holds past `offset`; returns the new offset. */
async function copyFrom(file: string, offset: number, out: { write(chunk: Buffer | string): unknown }): Promise<number> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return offset;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let at = offset;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) return at;
      out.write(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Bytes to a terminal, a line at a time as plain output writes it (plainLine): sequences dropped, other
 * controls escaped, UTF-8 decoded across reads. A line is kept up to MAX_LINE characters, as events keep it.
 */
class TerminalLines {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';
  private cut = false;

  constructor(private readonly out: Writable) {}

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    for (let start = 0; ;) {
      const end = text.indexOf('\n', start);
      const piece = text.slice(start, end === -1 ? undefined : end);
      if (!this.cut) {
        this.cut = this.rest.length + piece.length > MAX_LINE;
        this.rest += this.cut ? piece.slice(0, MAX_LINE - this.rest.length) : piece;
      }
      if (end === -1) break;
      lines.push(this.line());
      start = end + 1;
    }
    if (lines.length > 0) this.out.write(lines.join(''));
  }

  /** A last line without its newline is written as a line: before the next run's header, or at the end. */
  end(): void {
    this.rest += this.decoder.end();
    if (this.rest !== '' || this.cut) this.out.write(this.line());
  }

  private line(): string {
    const line = `${plainLine(this.rest)}${this.cut ? LINE_CUT_MARK : ''}\n`;
    this.rest = '';
    this.cut = false;
    return line;
  }
}
