// Where the config file is, and where its state file is: the light part of loading, which `status`
// against a daemon needs on its own. The full parse (load.ts) is imported only when it is needed.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_STATE_FILE, type Env } from '../domain.js';
import { UsageError } from '../errors.js';
import { quickStateValue } from './state-path.js';

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

/**
 * The state file's path, found without resolving the whole config when the text makes it plain; else
 * from the full load (which also reports a broken config).
 */
export async function locateState(location: ConfigLocation, env: Env): Promise<string> {
  const text = await readFile(location.absolutePath, 'utf8').catch(() => undefined);
  const value = text === undefined ? undefined : quickStateValue(text, env);
  if (value !== undefined) return path.resolve(path.dirname(location.absolutePath), value ?? DEFAULT_STATE_FILE);
  const { loadConfig } = await import('./load.js');
  return (await loadConfig(location, env)).config.statePath;
}
