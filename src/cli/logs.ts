// `gitwatch logs [-f] REPO`: the newest run's output from its run log, with a header; `-f` follows the
// log as it grows and moves on to each new run, until Ctrl-C. Run logs hold every byte a step printed,
// so reading them works the same with a daemon, during a `once`, or with nothing running, and while the
// config file has a problem (a daemon keeps running the config it accepted).

import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { runLogDir } from '../domain.js';
import { ConfigError, EXIT, UsageError, type ExitCode } from '../errors.js';
import { readState, type RunRecord } from '../state/state-file.js';
import { loadConfig } from '../config/load.js';
import { locateConfig, locatePaths } from '../config/locate.js';
import { parseTargetName } from '../config/targets.js';
import type { CommandContext } from './context.js';

const POLL_MS = 200;

export async function logsCommand(name: string, options: { follow: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const config = await logsOf(name, ctx);
  const dir = runLogDir(config.workdir, name);
  let current = await newestLog(dir);
  if (current === undefined && !options.follow) {
    ctx.stdout.write(`${name}: no runs yet\n`);
    return EXIT.ok;
  }
  let offset = 0;
  if (current !== undefined) {
    ctx.stdout.write(header(name, current, (await readState(config.statePath)).repos[name]?.lastRun));
    offset = await copyFrom(path.join(dir, current), 0, ctx);
  }
  while (options.follow && !ctx.signal.aborted) {
    await ctx.clock.sleep(POLL_MS, ctx.signal);
    if (current !== undefined) offset = await copyFrom(path.join(dir, current), offset, ctx);
    const newest = await newestLog(dir);
    if (newest !== undefined && newest !== current) {
      current = newest;
      ctx.stdout.write(header(name, current, undefined));
      offset = await copyFrom(path.join(dir, current), 0, ctx);
    }
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
    if (state.repos[name] === undefined && (await newestLog(runLogDir(workdir, name))) === undefined) throw error;
    return { statePath, workdir };
  }
}

/** Log names start with the run's start time, so the newest sorts last. */
async function newestLog(dir: string): Promise<string | undefined> {
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
async function copyFrom(file: string, offset: number, ctx: CommandContext): Promise<number> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return offset;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let at = offset;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) return at;
      ctx.stdout.write(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
