// The state in memory and on disk, kept together: every change is written at once, atomically. Changes
// are applied one after another, each to the state the previous one left, so a pause recorded while a
// run's result is written loses neither.

import type { RepoState, State } from './state-file.js';
import { readState, removeStaleTemps, writeState } from './state-file.js';

export class StateKeeper {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private state: State,
    private readonly pid: number,
  ) {}

  /** Call while holding the instance lock: temp files of a writer killed mid-write are removed. */
  static async open(file: string, pid: number): Promise<StateKeeper> {
    await removeStaleTemps(file);
    return new StateKeeper(file, await readState(file), pid);
  }

  get current(): State {
    return this.state;
  }

  entry(repo: string): RepoState | undefined {
    return this.state.repos[repo];
  }

  /** Replaces `repo`'s entry with what `change` makes of the entry as it is when the change is applied. */
  update(repo: string, change: (entry: RepoState | undefined) => RepoState): Promise<void> {
    const next = this.queue.then(async () => {
      const state: State = { ...this.state, repos: { ...this.state.repos, [repo]: change(this.state.repos[repo]) } };
      await writeState(this.file, state, this.pid);
      this.state = state;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
