// Finding and reading the config file: the thin I/O shell around parseConfig.

import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { parseConfig } from './parse.js';
import type { Env } from '../domain.js';
import type { ConfigLocation } from './locate.js';
import type { ResolvedConfig } from './types.js';

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
