// Pipelines run one at a time across repos; when several wait, the one first in the config goes first,
// and among a branch glob's targets, the first by branch name.

/** The repo's place in the config, then the target's branch ('' for a plain repo). */
export type Rank = readonly [number, string];

function compare(a: Rank, b: Rank): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

export class PipelineQueue {
  private busy = false;
  private readonly waiting: { readonly rank: Rank; readonly go: () => void }[] = [];

  async exclusive<T>(rank: Rank, task: () => Promise<T>): Promise<T> {
    if (this.busy) {
      await new Promise<void>((go) => {
        this.waiting.push({ rank, go });
        this.waiting.sort((a, b) => compare(a.rank, b.rank));
      });
    }
    this.busy = true;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // Hand over directly, so no newcomer slips in between.
      if (next) next.go();
      else this.busy = false;
    }
  }
}
