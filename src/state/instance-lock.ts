// One gitwatch per state file: `<state>.pid` holds the pid of the process that owns the state, and a
// second line `daemon` when that process is `gitwatch run` (so a command that finds no control socket can
// tell a daemon that lost it from a `once`). A lock left by a process that died (kill -9, power loss) is
// taken over without manual cleanup.

import { readFileSync } from 'node:fs';
import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { StateError } from '../errors.js';

/** Who we are, and whether another pid still runs. */
export interface LockOwner {
  readonly pid: number;
  exists(pid: number): boolean;
}

export interface InstanceLock {
  readonly file: string;
  /** Never throws: a pid file that cannot be removed (a read-only folder) comes back as a warning to show. */
  release(): Promise<string | undefined>;
}

export async function acquireInstanceLock(statePath: string, owner: LockOwner, role?: 'daemon'): Promise<InstanceLock> {
  const { pid } = owner;
  const file = `${statePath}.pid`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(role === 'daemon' ? `${pid}\ndaemon\n` : `${pid}\n`);
      await handle.close();
      return { file, release: () => releaseLock(file, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StateError(`cannot lock state ${statePath}: ${(err as Error).message}`);
    }
    // Only a file can be ours to take over; anything else in its place is for a person to look at.
    const kind = await lstat(file).then(
      (st) => (st.isFile() ? undefined : st.isDirectory() ? 'a folder' : 'not a file'),
      () => undefined,
    );
    if (kind !== undefined) throw new StateError(`cannot lock state ${statePath}: ${file} is ${kind}, not a pid file; remove it`);
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

/** The live gitwatch, other than `owner`, that holds the state's lock, and whether it is a daemon. */
export async function lockHolder(statePath: string, owner: LockOwner): Promise<{ readonly pid: number; readonly daemon: boolean } | undefined> {
  const [first = '', second] = (await readFile(`${statePath}.pid`, 'utf8').catch(() => '')).split('\n');
  const pid = Number.parseInt(first, 10);
  if (!Number.isInteger(pid) || pid <= 0 || pid === owner.pid || !isGitwatchAlive(owner, pid)) return undefined;
  return { pid, daemon: second === 'daemon' };
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export async function releaseLock(
  file: string,
  pid: number,
  remove: (file: string) => Promise<void> = (f) => rm(f, { force: true }),
): Promise<string | undefined> {
  try {
    if ((await readPid(file)) === pid) await remove(file);
    return undefined;
  } catch (err) {
    return `cannot remove the pid file ${file} (${(err as Error).message}); the next start takes it over`;
  }
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
