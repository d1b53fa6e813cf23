// The webhook deliveries seen in the last hour, so that a forge sending one again (its redelivery, a
// retry after a timeout) or someone replaying it starts nothing. In memory only, and bounded: the oldest
// go first when there are too many. Keys are hashed, so a long id costs no more than a short one.
//
// A delivery id is not covered by the signature: a replay that changes it is not caught here. A check
// costs an `ls-remote` and runs a pipeline only for a new commit, so that is what such a replay buys.

import { createHash } from 'node:crypto';

export const DELIVERY_MEMORY_MS = 60 * 60_000;
export const MAX_DELIVERIES = 10_000;

export class RecentDeliveries {
  /** Key → when it was seen; in the order seen, so expired ones sit at the front. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly keepMs = DELIVERY_MEMORY_MS,
    private readonly max = MAX_DELIVERIES,
  ) {}

  has(repo: string, id: string): boolean {
    this.expire();
    return this.seen.has(key(repo, id));
  }

  add(repo: string, id: string): void {
    this.expire();
    const k = key(repo, id);
    this.seen.delete(k);
    this.seen.set(k, this.now());
    for (const oldest of this.seen.keys()) {
      if (this.seen.size <= this.max) break;
      this.seen.delete(oldest);
    }
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(): void {
    const before = this.now() - this.keepMs;
    for (const [k, at] of this.seen) {
      // A clock stepped back leaves later entries with earlier times; they expire when they come to the front.
      if (at > before) break;
      this.seen.delete(k);
    }
  }
}

function key(repo: string, id: string): string {
  return createHash('sha256').update(repo).update('\0').update(id).digest('base64');
}
