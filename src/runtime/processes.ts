// The process groups of gitwatch's children, and the one door through which they are signalled. The
// CLI builds it around the real process (its pid and `kill`); everything else receives it, so no module
// below the CLI reaches for the `process` global, and a hard exit can still kill every running group.

import type { GroupSink } from './orphan-guard.js';

/** On shutdown, how long a running step has between SIGTERM and SIGKILL. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface ProcessHost {
  /** gitwatch's own pid: the instance lock and temp file names carry it. */
  readonly pid: number;
  /** As `process.kill`: a negative pid signals a process group; signal 0 only probes. Throws when there is no such process. */
  kill(pid: number, signal: NodeJS.Signals | 0): void;
}

export class ProcessGroups {
  private readonly groups = new Set<number>();

  constructor(
    readonly host: ProcessHost,
    /** Told of every group, so the groups die with gitwatch even when it is killed with SIGKILL. */
    private readonly guard?: GroupSink,
  ) {}

  get pid(): number {
    return this.host.pid;
  }

  track(pgid: number): void {
    this.groups.add(pgid);
    this.guard?.add(pgid);
  }

  untrack(pgid: number): void {
    this.groups.delete(pgid);
    this.guard?.remove(pgid);
  }

  /** Sends `signal` to the whole group; false when the group is already gone. */
  signal(pgid: number, signal: NodeJS.Signals): boolean {
    try {
      this.host.kill(-pgid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Some process of the group still runs. */
  alive(pgid: number): boolean {
    try {
      this.host.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** The process exists (it may belong to another user). */
  exists(pid: number): boolean {
    try {
      this.host.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** SIGKILL to every tracked group: the last act of a hard exit. */
  killAll(): void {
    for (const pgid of this.groups) this.signal(pgid, 'SIGKILL');
  }
}
