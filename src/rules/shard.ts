// Which shard a repo belongs to (`--shard I/N`, `GITWATCH_SHARD=I/N`). N instances with one config split
// the repos among them with no coordination, so the rule must be the same everywhere and forever: FNV-1a
// (32-bit) of the repo name's UTF-8 bytes, modulo N, shards numbered from 0. A repo's shard depends on its
// own name and N only, so adding or removing another repo never moves it. A branch glob's targets
// (`name@branch`) go with their repo: one instance follows the glob and keeps its targets' checkouts.

/** This instance's part: shard `index` of `count`, 0 ≤ index < count. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    // Math.imul keeps the product in 32 bits, as the C reference's unsigned overflow does.
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** The shard (0-based) that repo `name` (or its glob target `name@branch`) belongs to among `count`. */
export function shardOf(name: string, count: number): number {
  const at = name.indexOf('@');
  return fnv1a32(at === -1 ? name : name.slice(0, at)) % count;
}

export function inShard(name: string, shard: Shard): boolean {
  return shardOf(name, shard.count) === shard.index;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** Far more instances than anyone runs; a bound keeps a typo like `0/30000000000` from being taken. */
const MAX_SHARDS = 10_000;

/** `I/N` in decimal, 0 ≤ I < N ≤ 10000; an error says what is wrong with `text`. */
export function parseShard(text: string): { ok: true; value: Shard } | { ok: false; error: string } {
  const m = /^\s*(\d{1,5})\s*\/\s*(\d{1,5})\s*$/.exec(text);
  if (m === null) return { ok: false, error: `'${text}' is not I/N (two whole numbers, e.g. 0/3)` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count === 0) return { ok: false, error: `'${text}': N must be at least 1` };
  if (count > MAX_SHARDS) return { ok: false, error: `'${text}': N must be at most ${MAX_SHARDS}` };
  if (index >= count) return { ok: false, error: `'${text}': I must be below N (shards are numbered 0 to ${count - 1})` };
  return { ok: true, value: { index, count } };
}
