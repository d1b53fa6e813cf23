// Process groups of the steps running now. Kept apart from step-process.ts so the CLI's entry can kill them
// on a hard exit without loading the process runner at start-up.

const groups = new Set<number>();

export function trackStep(pgid: number): void {
  groups.add(pgid);
}

export function untrackStep(pgid: number): void {
  groups.delete(pgid);
}

/** SIGKILL to every running step's process group. */
export function killRunningSteps(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
