// One gitwatch per state file: `<state>.pid` holds the pid of the process that owns the state.
// A lock left by a process that died (kill -9, power loss) is taken over without manual cleanup.

import { readFileSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { StateError } from '../errors.js';

/** Who we are, and whether another pid still runs. */
export interface LockOwner {
  readonly pid: number;
  exists(pid: number): boolean;
}

export interface InstanceLock {
  readonly file: string;
  release(): Promise<void>;
}

export async function acquireInstanceLock(statePath: string, owner: LockOwner): Promise<InstanceLock> {
  const { pid } = owner;
  const file = `${statePath}.pid`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${pid}\n`);
      await handle.close();
      return { file, release: () => releaseLock(file, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StateError(`cannot lock state ${statePath}: ${(err as Error).message}`);
    }
    const holder = await readPid(file);
    if (holder !== undefined && holder !== pid && isGitwatchAlive(owner, holder)) {
      throw new StateError(`state ${statePath} is locked by another running gitwatch (pid ${holder})`);
    }
    await takeOver(file, holder, pid);
  }
  throw new StateError(`cannot lock state ${statePath}: another gitwatch keeps taking it`);
}

/** Moves a stale lock aside; if another process took it over meanwhile, puts theirs back. */
async function takeOver(file: string, stalePid: number | undefined, pid: number): Promise<void> {
  const aside = `${file}.stale.${pid}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const moved = await readPid(aside);
  if (moved !== stalePid) await rename(aside, file).catch(() => undefined);
  else await rm(aside, { force: true });
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function releaseLock(file: string, pid: number): Promise<void> {
  if ((await readPid(file)) === pid) await rm(file, { force: true });
}

/** Alive, and (where /proc tells) still a gitwatch: a pid reused by another program is not a holder. */
function isGitwatchAlive(owner: LockOwner, pid: number): boolean {
  if (!owner.exists(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gitwatch');
  } catch {
    return true;
  }
}
