// The state in memory and on disk, kept together: every change is written at once, atomically.

import type { RepoState, State } from './state-file.js';
import { readState, writeState } from './state-file.js';

export class StateKeeper {
  private constructor(
    readonly file: string,
    private state: State,
    private readonly pid: number,
  ) {}

  static async open(file: string, pid: number): Promise<StateKeeper> {
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
