// One SSH connection per host (and per key and known_hosts file), shared by the checks: OpenSSH's
// ControlMaster. gitwatch starts the master itself, in a process group of its own that it tracks, so it ends
// with gitwatch however gitwatch ends (a master that ssh backgrounds itself, ControlPersist, would outlive a
// kill -9). Its socket sits in a folder only gitwatch's user can enter, made for that master and removed when
// its process ends, however it ends (stopped, refused at its start, dropped by the server), so a long-running
// daemon whose masters come and go does not collect folders. A check's ssh joins the master when
// its socket is there and connects on its own otherwise, so a master that is starting, failed or died costs
// nothing but the handshake it was meant to save.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshSettings } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import { limiter, type Limit } from '../runtime/limiter.js';
import type { ProcessGroups } from '../runtime/processes.js';

export interface SshTarget {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: string | undefined;
}

/** Where an ssh:// or scp-like URL connects to; undefined for anything else. */
export function sshTarget(url: string): SshTarget | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme !== 'ssh' && scheme !== 'git+ssh' && scheme !== 'ssh+git') return undefined;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (host === '' || host.startsWith('-')) return undefined;
    return { user: parsed.username === '' ? undefined : decodeURIComponent(parsed.username), host, port: parsed.port === '' ? undefined : parsed.port };
  }
  const scp = /^(?:([^@/:\s]+)@)?([A-Za-z0-9.-]+):(?!\/\/)/.exec(url);
  if (scp?.[2] === undefined || scp[2].startsWith('-') || url.startsWith('/') || url.startsWith('.')) return undefined;
  return { user: scp[1], host: scp[2], port: undefined };
}

/**
 * Sessions at once over one master: OpenSSH's sshd allows 10 by default (MaxSessions) and refuses more;
 * checks past this wait for a channel rather than fail.
 */
const SESSIONS_PER_MASTER = 8;
/** A master that could not start is tried again after this long; checks connect on their own meanwhile. */
const RETRY_MS = 60_000;
const KILL_AFTER_MS = 2000;
const MAX_START_MS = 10_000;
/** How long a failed check waits to see whether its master has exited too. */
const EXIT_SEEN_MS = 500;

interface Master {
  /** In a folder made for this master alone and removed when it ends, so nothing of it outlives its process. */
  readonly socket: string;
  readonly pgid: number | undefined;
  readonly sessions: Limit;
  exited: boolean;
  /** Resolves once the process has ended and its folder is gone. */
  readonly gone: Promise<void>;
}

export class SshMasters {
  /** Per host and settings: the master, or its start that checks of the same host wait for. */
  private readonly masters = new Map<string, Promise<Master | undefined>>();
  /** Masters whose process has not ended yet, whatever became of their start. */
  private readonly live = new Set<Master>();
  private readonly failedAt = new Map<string, number>();
  /** Aborted by `close`: starts stop waiting for their handshake. */
  private closing = new AbortController();

  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly groups: ProcessGroups,
    private readonly clock: Clock,
  ) {}

  /**
   * Runs `task` with the control socket to give ssh (`ControlPath`), or without one while there is no
   * master ready; the first check of a host starts its master. A check whose `signal` aborts stops waiting
   * for the master at once (its task then sees the aborted signal); the start goes on for the others.
   */
  async with<T>(url: string, ssh: SshSettings | undefined, waitMs: number, task: (socket: string | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const target = sshTarget(url);
    if (target === undefined) return task(undefined);
    const key = JSON.stringify([target, ssh ?? null]);
    let starting = this.masters.get(key);
    if (starting === undefined) {
      // Set before any await: the checks that come meanwhile wait for this start rather than make their own.
      starting = this.start(key, target, ssh, waitMs);
      this.masters.set(key, starting);
    }
    let master = await unlessAborted(starting, signal);
    if (signal?.aborted !== true && ((master === undefined && this.retryDue(key)) || master?.exited === true)) {
      if (this.masters.get(key) === starting) this.masters.set(key, this.start(key, target, ssh, waitMs));
      master = await unlessAborted(this.masters.get(key), signal);
    }
    if (master === undefined || master.exited) return task(undefined);
    const { socket } = master;
    try {
      return await master.sessions(() => task(socket));
    } catch (error) {
      // The master ended under this check (killed, or its connection dropped): that says nothing about the
      // remote. Once more on a connection of its own; the next checks start a new master as usual.
      if (signal?.aborted === true || !(await this.ended(master))) throw error;
      return task(undefined);
    }
  }

  /** Whether `master` has ended, allowing a moment for its exit to be seen: a session fails as its master dies. */
  private async ended(master: Master): Promise<boolean> {
    if (!master.exited) {
      const timer = new AbortController();
      await Promise.race([master.gone, this.clock.sleep(EXIT_SEEN_MS, timer.signal)]);
      timer.abort();
    }
    return master.exited;
  }

  private retryDue(key: string): boolean {
    const failed = this.failedAt.get(key);
    return failed === undefined || this.clock.now().getTime() - failed > RETRY_MS;
  }

  private async start(key: string, target: SshTarget, ssh: SshSettings | undefined, waitMs: number): Promise<Master | undefined> {
    const { signal: closing } = this.closing;
    let folder: string;
    try {
      folder = await mkdtemp(path.join(tmpdir(), 'gitwatch-ssh-'));
    } catch {
      // No private folder for the socket (a full or read-only temp folder): checks connect on their own.
      this.failedAt.set(key, this.clock.now().getTime());
      return undefined;
    }
    if (closing.aborted) {
      await rm(folder, { recursive: true, force: true });
      return undefined;
    }
    const socket = path.join(folder, 'control');
    const args = ['-M', '-N', '-o', 'ControlPersist=no', '-o', `ControlPath=${socket}`, ...sshOptions(ssh), '-o', 'ServerAliveInterval=30'];
    if (target.user !== undefined) args.push('-l', target.user);
    if (target.port !== undefined) args.push('-p', target.port);
    const child = spawn('ssh', [...args, '--', target.host], { env: this.env, detached: true, stdio: 'ignore' });
    const pgid = child.pid;
    if (pgid !== undefined) this.groups.track(pgid);
    const gone = new Promise<void>((resolve) => {
      const done = (): void => {
        if (master.exited) return;
        master.exited = true;
        if (pgid !== undefined) this.groups.untrack(pgid);
        // ssh removes its socket as it exits; the folder is ours to remove, whether the master failed to
        // start, died of a dropped connection (a retry makes a new one) or was stopped.
        void rm(folder, { recursive: true, force: true })
          .catch(() => undefined)
          .then(() => {
            this.live.delete(master);
            resolve();
          });
      };
      child.once('exit', done);
      child.once('error', done);
    });
    const master: Master = { socket, pgid, sessions: limiter(SESSIONS_PER_MASTER), exited: false, gone };
    this.live.add(master);
    // Checks of this host wait for the handshake they would otherwise each make themselves, but not for long:
    // a master that is slow to start leaves them to connect alone, within their own time limit. `close` ends
    // the wait at once.
    const until = this.clock.now().getTime() + Math.min(MAX_START_MS, waitMs);
    while (!master.exited && !closing.aborted && this.clock.now().getTime() < until) {
      if (await isSocket(socket)) return master;
      await this.clock.sleep(10, closing);
    }
    this.failedAt.set(key, this.clock.now().getTime());
    await this.stop(master);
    return undefined;
  }

  /** Ends the master and waits until its folder is gone. */
  private async stop(master: Master): Promise<void> {
    if (master.pgid !== undefined && !master.exited) {
      this.groups.signal(master.pgid, 'SIGTERM');
      const timer = new AbortController();
      await Promise.race([master.gone, this.clock.sleep(KILL_AFTER_MS, timer.signal)]);
      timer.abort();
      if (!master.exited) this.groups.signal(master.pgid, 'SIGKILL');
    }
    await master.gone;
  }

  /** Ends every master, starting or up, and removes their folders. The masters may be used again after. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.all([...this.masters.values()]);
    this.masters.clear();
    await Promise.all([...this.live].map((m) => this.stop(m)));
    this.closing = new AbortController();
  }
}

/** `starting`'s master, or undefined as soon as `signal` aborts. */
async function unlessAborted(starting: Promise<Master | undefined> | undefined, signal: AbortSignal | undefined): Promise<Master | undefined> {
  if (signal === undefined || starting === undefined) return starting;
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([starting, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/** The options every ssh of gitwatch's runs with: host keys always checked, no prompts. */
export function sshOptions(ssh: SshSettings | undefined): string[] {
  const args = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'];
  if (ssh?.key !== undefined) args.push('-i', ssh.key, '-o', 'IdentitiesOnly=yes');
  if (ssh?.knownHosts !== undefined) args.push('-o', `UserKnownHostsFile=${ssh.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null');
  return args;
}

async function isSocket(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isSocket() === true;
}
