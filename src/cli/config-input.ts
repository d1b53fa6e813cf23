// Loading the config for a command and picking the repos it names.

import { loadConfig, type LoadedConfig } from '../config/load.js';
import { locateConfig } from '../config/locate.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';

export async function loadForCommand(ctx: CommandContext): Promise<LoadedConfig> {
  return loadConfig(locateConfig(ctx.global.config, ctx.cwd, ctx.env), ctx.env);
}

export function selectRepos(config: ResolvedConfig, names: readonly string[]): RepoConfig[] {
  if (names.length === 0) return [...config.repos];
  const known = new Map(config.repos.map((r) => [r.name, r]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown repo${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (configured: ${[...known.keys()].join(', ')})`,
    );
  }
  // Config order, not command-line order: pipelines always run in the order of the file.
  return config.repos.filter((r) => names.includes(r.name));
}
