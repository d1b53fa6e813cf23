// The state in memory and on disk, kept together: every change is written at once, atomically.

import type { RepoState, State } from './state-file.js';
import { readState, removeStaleTemps, writeState } from './state-file.js';

export class StateKeeper {
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

  async update(repo: string, entry: RepoState): Promise<void> {
    const next: State = { ...this.state, repos: { ...this.state.repos, [repo]: entry } };
    await writeState(this.file, next, this.pid);
    this.state = next;
  }
}
