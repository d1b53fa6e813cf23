// Which pipelines may run now. At most `capacity` at once across repos (`concurrency.pipelines`, default 1),
// a repo never twice at once, and never two of one `group`. When several wait, the first in the config goes
// first (a branch glob's targets by branch name); one that its group holds back does not hold back the
// others. `once` and the daemon share this rule.

/** The repo's place in the config, then the target's branch ('' for a plain repo). */
export type Rank = readonly [number, string];

export interface Slot {
  /** The repo or target (`site@release/1.0`). */
  readonly name: string;
  readonly rank: Rank;
  readonly group?: string | undefined;
}

interface Waiting {
  readonly slot: Slot;
  readonly go: () => void;
}

function compare(a: Rank, b: Rank): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

export class PipelineQueue {
  private readonly running = new Map<string, Slot>();
  private readonly waiting: Waiting[] = [];

  constructor(private capacity = 1) {}

  /** A reload may change `concurrency.pipelines`; waiting pipelines may start at once. */
  resize(capacity: number): void {
    this.capacity = Math.max(1, capacity);
    this.pump();
  }

  /** Runs `task` when `slot` may run; `queued` hears why it waits, if it must. */
  async exclusive<T>(slot: Slot, task: () => Promise<T>, queued?: (why: string) => void): Promise<T> {
    if (this.blocker(slot) !== undefined) {
      await new Promise<void>((go) => {
        this.waiting.push({ slot, go });
        this.waiting.sort((a, b) => compare(a.slot.rank, b.slot.rank));
        // Said after the queue has had its chance: a slot the pump starts at once never waited.
        this.pump();
        const why = this.waitingFor(slot.name);
        if (why !== undefined) queued?.(why);
      });
    } else this.running.set(slot.name, slot);
    try {
      return await task();
    } finally {
      this.running.delete(slot.name);
      this.pump();
    }
  }

  /** Why `name` waits now (`behind api`, `group deploy: api`), or undefined when it does not wait. */
  waitingFor(name: string): string | undefined {
    const waiting = this.waiting.find((w) => w.slot.name === name);
    return waiting === undefined ? undefined : this.blocker(waiting.slot);
  }

  /** What keeps `slot` from starting now, in words; undefined when it may start. */
  private blocker(slot: Slot): string | undefined {
    const running = [...this.running.values()].sort((a, b) => compare(a.rank, b.rank));
    const same = running.find((r) => r.name === slot.name);
    if (same !== undefined) return `behind its own run`;
    const group = slot.group === undefined ? undefined : running.find((r) => r.group === slot.group);
    if (group !== undefined) return `group ${slot.group ?? ''}: ${group.name}`;
    if (running.length >= this.capacity) return `behind ${running.map((r) => r.name).join(', ')}`;
    // Pipelines first in the config go first: one ahead that may start now starts before this one.
    const ahead = this.waiting.find((w) => w.slot !== slot && compare(w.slot.rank, slot.rank) < 0 && this.free(w.slot));
    return ahead === undefined ? undefined : `behind ${ahead.slot.name}`;
  }

  private free(slot: Slot): boolean {
    if (this.running.size >= this.capacity || this.running.has(slot.name)) return false;
    return slot.group === undefined || ![...this.running.values()].some((r) => r.group === slot.group);
  }

  /** Starts waiting pipelines, first in the config first, while there is room. */
  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.running.size < this.capacity;) {
      const w = this.waiting[i];
      if (w === undefined || !this.free(w.slot)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.running.set(w.slot.name, w.slot);
      w.go();
    }
  }
}
