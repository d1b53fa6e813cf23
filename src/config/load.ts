// Finding and reading the config file: the thin I/O shell around parseConfig, and the files it names
// that are read with it (verify's key files).

import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { readKeyFiles } from './key-files.js';
import { parseConfig, type ParseOptions, type ParseResult } from './parse.js';
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
  const result = await readConfigText(text, { file: location.file, absolutePath: location.absolutePath, env });
  if (!result.ok) throw new ConfigError(result.error, text);
  return { config: result.value, text };
}

/**
 * The config's text parsed, then the files it names read: what a start and a reload both do. `onParsed`
 * hears the config once it parsed, before its files are read (a reload watches the key files it names).
 */
export async function readConfigText(text: string, options: ParseOptions, onParsed?: (config: ResolvedConfig) => void): Promise<ParseResult> {
  const parsed = parseConfig(text, options);
  if (parsed.ok) onParsed?.(parsed.value);
  return parsed.ok ? readKeyFiles(parsed.value, options.file) : parsed;
}
