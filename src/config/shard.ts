// A config narrowed to one shard: the same file on every instance, each keeping only its own repos.

import { formatShard, inShard, shardOf, type Shard } from '../rules/shard.js';
import type { ResolvedConfig } from './types.js';

export function narrowToShard(config: ResolvedConfig, shard: Shard | undefined): ResolvedConfig {
  if (shard === undefined) return config;
  return { ...config, shard, repos: config.repos.filter((r) => inShard(r.name, shard)) };
}

/** Why `name` is not this instance's, when another shard holds it; undefined when it is this shard's. */
export function elsewhere(name: string, shard: Shard | undefined): string | undefined {
  if (shard === undefined || inShard(name, shard)) return undefined;
  return `'${name}' belongs to shard ${shardOf(name, shard.count)}/${shard.count}; this is shard ${formatShard(shard)}`;
}
