// Finding and reading the config file: the thin I/O shell around parseConfig.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { parseConfig } from './parse.js';
import type { Env } from '../domain.js';
import type { ResolvedConfig } from './types.js';

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

export interface LoadedConfig {
  readonly config: ResolvedConfig;
  readonly text: string;
}

export async function loadConfig(location: ConfigLocation, env: Env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(location.absolutePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read config ${location.file}: ${why}`);
  }
  const result = parseConfig(text, { file: location.file, absolutePath: location.absolutePath, env });
  if (!result.ok) throw new ConfigError(result.error, text);
  return { config: result.value, text };
}
