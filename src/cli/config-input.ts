// Loading the config for a command and picking the repos it names.

import { loadConfig, type LoadedConfig } from '../config/load.js';
import { locateConfig } from '../config/locate.js';
import { elsewhere, narrowToShard } from '../config/shard.js';
import { parseTargetName, targetFolder, targetOf, type FolderClaim } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { UsageError } from '../errors.js';
import type { Shard } from '../rules/shard.js';
import type { CommandContext } from './context.js';

/** The config, narrowed to this instance's shard when it has one. */
export async function loadForCommand(ctx: CommandContext): Promise<LoadedConfig> {
  const loaded = await loadConfig(locateConfig(ctx.global.config, ctx.cwd, ctx.env), ctx.env);
  return { ...loaded, config: narrowToShard(loaded.config, ctx.global.shard) };
}

/** A name on another shard is a usage error that says which shard holds it (SPEC: Scale beyond one machine). */
export function refuseOtherShards(names: readonly string[], shard: Shard | undefined): void {
  for (const name of names) {
    const why = elsewhere(name, shard);
    if (why !== undefined) throw new UsageError(why);
  }
}

/**
 * The repos `names` select (all without names). A named target's folder is chosen from the lock's
 * `entries` (config/targets.ts): pass them where a target may run.
 */
export function selectRepos(config: ResolvedConfig, names: readonly string[], entries: Readonly<Record<string, FolderClaim>> = {}): RepoConfig[] {
  if (names.length === 0) return [...config.repos];
  refuseOtherShards(names, config.shard);
  const known = new Map(config.repos.map((r) => [r.name, r]));
  const unknown = names.filter((n) => !known.has(n) && parseTargetName(config, n) === undefined);
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown repo${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (configured: ${[...known.keys()].join(', ')})`,
    );
  }
  // Config order, not command-line order: pipelines always run in the order of the file, then branch order.
  const targets = names
    .map((n) => parseTargetName(config, n))
    .filter((t) => t !== undefined)
    .filter((t) => !names.includes(t.repo.name))
    .sort((a, b) => (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0));
  return config.repos.flatMap((r) => [
    ...(names.includes(r.name) ? [r] : []),
    ...targets.filter((t) => t.repo === r).map((t) => targetOf(t.repo, t.branch, targetFolder(r.name, t.branch, entries))),
  ]);
}
