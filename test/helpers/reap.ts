// What a test started and did not stop: every process whose working folder or HOME lies in one of the
// test's temp folders (a step runs in its checkout, with the project's HOME) is killed with its whole
// process group when the test ends, whether it passed or failed. A failing assertion must never leave a
// step's `sleep 600` behind for the rest of the suite.

import { readdir, readFile, readlink, realpath } from 'node:fs/promises';

/** Process group of `pid`, from /proc/PID/stat (the command name in parentheses may hold spaces). */
async function groupOf(pid: string): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  return Number.isInteger(pgid) && pgid > 0 ? pgid : undefined;
}

async function livesIn(pid: string, dir: string): Promise<boolean> {
  const inside = (p: string): boolean => p === dir || p.startsWith(`${dir}/`);
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
  if (inside(cwd)) return true;
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return environ.split('\0').some((v) => v.startsWith('HOME=') && inside(v.slice(5)));
}

/** Kills what still runs in `dir` (its process groups, never this test's own); returns the pids found. */
export async function reapProcesses(folder: string): Promise<number[]> {
  // /proc shows real paths: a temp folder reached through a symlink would never match.
  const dir = await realpath(folder).catch(() => folder);
  const own = await groupOf('self');
  const found: number[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid || !(await livesIn(pid, dir))) continue;
    found.push(Number(pid));
    const pgid = await groupOf(pid);
    try {
      // A process the test spawned itself (a daemon) shares the test's group: only it goes, not the group.
      if (pgid !== undefined && pgid !== own) process.kill(-pgid, 'SIGKILL');
      else process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return found;
}
