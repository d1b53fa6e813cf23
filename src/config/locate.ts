// Where the config file is, and where its state file and workdir are: the light part of loading, which
// the commands that talk to a daemon need on their own. The full parse (load.ts) is imported only when it
// is needed.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_STATE_FILE, type Env } from '../domain.js';
import { UsageError } from '../errors.js';
import { interpolate } from './interpolate.js';
import { scanTopValue } from './state-path.js';

export interface ConfigLocation {
  /** As the user wrote it, for messages. */
  readonly file: string;
  readonly absolutePath: string;
}

/** `-c FILE`, else `$GITWATCH_CONFIG`, else `./gitwatch.yaml`, else `./gitwatch.yml`. */
export function locateConfig(explicit: string | undefined, cwd: string, env: Env): ConfigLocation {
  const given = explicit ?? (env['GITWATCH_CONFIG'] || undefined);
  if (given !== undefined) return { file: given, absolutePath: path.resolve(cwd, given) };
  for (const name of ['gitwatch.yaml', 'gitwatch.yml']) {
    if (existsSync(path.join(cwd, name))) return { file: name, absolutePath: path.join(cwd, name) };
  }
  throw new UsageError('no config file: pass -c FILE, set GITWATCH_CONFIG, or create ./gitwatch.yaml (gitwatch init writes one)');
}

/** Each path, or undefined when it needs a variable that is not set (the full load then says so). */
export interface ConfigPaths {
  readonly statePath: string | undefined;
  readonly workdir: string | undefined;
}

const DEFAULTS = { state: DEFAULT_STATE_FILE, workdir: '.gitwatch' } as const;

/**
 * The state file and the workdir, found without validating the config: a daemon runs the config it last
 * accepted, so `cancel` must reach it while the file has a typo, and an operator's shell need not hold the
 * `${VAR}`s that only the repos use. A line scan answers for most files; else the YAML is read leniently
 * (its errors ignored); a file that cannot be read or is not a YAML map gives the defaults beside it.
 */
export async function locatePaths(location: ConfigLocation, env: Env): Promise<ConfigPaths> {
  const text = await readFile(location.absolutePath, 'utf8').catch(() => '');
  let lenient: Map<string, unknown> | undefined;
  const find = async (key: keyof typeof DEFAULTS): Promise<string | undefined> => {
    let value: unknown = scanTopValue(text, key);
    if (value === undefined) value = (lenient ??= (await import('./top-level.js')).topLevelValues(text)).get(key);
    if (typeof value !== 'string' || value === '') return path.resolve(path.dirname(location.absolutePath), DEFAULTS[key]);
    const r = interpolate(value, env);
    return r.ok && r.value.value !== '' ? path.resolve(path.dirname(location.absolutePath), r.value.value) : undefined;
  };
  return { statePath: await find('state'), workdir: await find('workdir') };
}

/** The state file's path: found leniently (see locatePaths), else from the full load, which reports the problem. */
export async function locateState(location: ConfigLocation, env: Env): Promise<string> {
  const { statePath } = await locatePaths(location, env);
  if (statePath !== undefined) return statePath;
  const { loadConfig } = await import('./load.js');
  return (await loadConfig(location, env)).config.statePath;
}
