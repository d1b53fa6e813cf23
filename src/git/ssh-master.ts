// One SSH connection per host (and per key and known_hosts file), shared by the checks: OpenSSH's
// ControlMaster. gitwatch starts the master itself, in a process group of its own that it tracks, so it ends
// with gitwatch however gitwatch ends (a master that ssh backgrounds itself, ControlPersist, would outlive a
// kill -9). Its socket sits in a folder only gitwatch's user can enter. A check's ssh joins the master when
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

interface Master {
  readonly socket: string;
  readonly pgid: number | undefined;
  readonly sessions: Limit;
  exited: boolean;
  readonly gone: Promise<void>;
}

export class SshMasters {
  private dir: Promise<string> | undefined;
  /** Per host and settings: the master, or its start that checks of the same host wait for. */
  private readonly masters = new Map<string, Promise<Master | undefined>>();
  private readonly started: Master[] = [];
  private readonly failedAt = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly groups: ProcessGroups,
    private readonly clock: Clock,
  ) {}

  /**
   * Runs `task` with the control socket to give ssh (`ControlPath`), or without one while there is no
   * master ready; the first check of a host starts its master.
   */
  async with<T>(url: string, ssh: SshSettings | undefined, waitMs: number, task: (socket: string | undefined) => Promise<T>): Promise<T> {
    const target = sshTarget(url);
    if (target === undefined) return task(undefined);
    const key = JSON.stringify([target, ssh ?? null]);
    let starting = this.masters.get(key);
    if (starting === undefined) {
      // Set before any await: the checks that come meanwhile wait for this start rather than make their own.
      starting = this.start(key, target, ssh, waitMs);
      this.masters.set(key, starting);
    }
    let master = await starting;
    if ((master === undefined && this.retryDue(key)) || master?.exited === true) {
      if (this.masters.get(key) === starting) this.masters.set(key, this.start(key, target, ssh, waitMs));
      master = await this.masters.get(key);
    }
    if (master === undefined || master.exited) return task(undefined);
    const { socket } = master;
    return master.sessions(() => task(socket));
  }

  private retryDue(key: string): boolean {
    const failed = this.failedAt.get(key);
    return failed === undefined || this.clock.now().getTime() - failed > RETRY_MS;
  }

  private async start(key: string, target: SshTarget, ssh: SshSettings | undefined, waitMs: number): Promise<Master | undefined> {
    this.dir ??= mkdtemp(path.join(tmpdir(), 'gitwatch-ssh-'));
    const socket = path.join(await this.dir, String(this.count++));
    const args = ['-M', '-N', '-o', 'ControlPersist=no', '-o', `ControlPath=${socket}`, ...sshOptions(ssh), '-o', 'ServerAliveInterval=30'];
    if (target.user !== undefined) args.push('-l', target.user);
    if (target.port !== undefined) args.push('-p', target.port);
    const child = spawn('ssh', [...args, '--', target.host], { env: this.env, detached: true, stdio: 'ignore' });
    const pgid = child.pid;
    if (pgid !== undefined) this.groups.track(pgid);
    let exited = false;
    const gone = new Promise<void>((resolve) => {
      const done = (): void => {
        exited = true;
        master.exited = true;
        if (pgid !== undefined) this.groups.untrack(pgid);
        resolve();
      };
      child.once('exit', done);
      child.once('error', done);
    });
    const master: Master = { socket, pgid, sessions: limiter(SESSIONS_PER_MASTER), exited: false, gone };
    this.started.push(master);
    // Checks of this host wait for the handshake they would otherwise each make themselves, but not for long:
    // a master that is slow to start leaves them to connect alone, within their own time limit.
    const until = this.clock.now().getTime() + Math.min(MAX_START_MS, waitMs);
    while (!exited && this.clock.now().getTime() < until) {
      if (await isSocket(socket)) return master;
      await this.clock.sleep(10);
    }
    this.failedAt.set(key, this.clock.now().getTime());
    await this.stop(master);
    return undefined;
  }

  private async stop(master: Master): Promise<void> {
    if (master.pgid === undefined || master.exited) return;
    this.groups.signal(master.pgid, 'SIGTERM');
    const timer = new AbortController();
    await Promise.race([master.gone, this.clock.sleep(KILL_AFTER_MS, timer.signal)]);
    timer.abort();
    if (!master.exited) this.groups.signal(master.pgid, 'SIGKILL');
  }

  /** Ends every master and removes the sockets' folder. */
  async close(): Promise<void> {
    await Promise.all([...this.masters.values()]);
    this.masters.clear();
    await Promise.all(this.started.splice(0).map((m) => this.stop(m)));
    if (this.dir !== undefined) await rm(await this.dir, { recursive: true, force: true });
    this.dir = undefined;
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
