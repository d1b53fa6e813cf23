// Pipelines run one at a time across repos; when several wait, the one first in the config goes first.

export class PipelineQueue {
  private busy = false;
  private readonly waiting: { readonly rank: number; readonly go: () => void }[] = [];

  async exclusive<T>(rank: number, task: () => Promise<T>): Promise<T> {
    if (this.busy) {
      await new Promise<void>((go) => {
        this.waiting.push({ rank, go });
        this.waiting.sort((a, b) => a.rank - b.rank);
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
