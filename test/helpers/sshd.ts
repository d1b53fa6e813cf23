// Debian's sshd on a loopback port, with a host key and a client key made for the test; stopped when it ends.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './git-fixtures.js';

/** Overridable so the skip can be tried on a machine that has sshd (`GITWATCH_TEST_SSHD=/nowhere npm test`). */
export const SSHD = process.env['GITWATCH_TEST_SSHD'] ?? '/usr/sbin/sshd';

/** Set by .ci/run, which installs sshd: there a missing sshd fails the test instead of skipping it. */
export const REQUIRE_SSHD = 'GITWATCH_TEST_REQUIRE_SSHD';

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, command)));
}

/**
 * Why the SSH test cannot run here, if it cannot: it needs Debian's sshd (a system package, which a fresh
 * machine lacks) and OpenSSH's client. The test skips with this reason, printed in the test report.
 */
export function sshdMissing(): string | undefined {
  const missing = [
    !existsSync(SSHD) && `${SSHD} (package openssh-server)`,
    !onPath('ssh') && 'ssh (package openssh-client)',
    !onPath('ssh-keygen') && 'ssh-keygen (package openssh-client)',
  ].filter((x): x is string => typeof x === 'string');
  if (missing.length === 0) return undefined;
  const reason = `needs ${missing.join(', ')}; .ci/run installs them`;
  if (process.env[REQUIRE_SSHD] === '1') throw new Error(`${REQUIRE_SSHD}=1 but the SSH test ${reason}`);
  return reason;
}

export interface Sshd {
  readonly port: number;
  readonly clientKey: string;
  /** A known_hosts file that holds this server's host key. */
  readonly knownHosts: string;
  url(repoPath: string): string;
}

/** `config`: more sshd_config lines (a `ForceCommand` that gates sessions, say). */
export async function startSshd(t: TestContext, dir: string, options: { config?: readonly string[] } = {}): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install Debian's openssh-server (.ci/run does)`);
  await mkdir(dir, { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  for (const key of [hostKey, clientKey]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  // sshd insists on its privilege separation folder.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = userInfo().username;
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'LogLevel ERROR',
      ...(options.config ?? []),
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${(await readFile(`${hostKey}.pub`, 'utf8')).trim()}\n`);
  // Ready when it accepts a real login.
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-p',
          String(port),
          '-i',
          clientKey,
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          `UserKnownHostsFile=${knownHosts}`,
          '-o',
          'BatchMode=yes',
          `${user}@127.0.0.1`,
          'true',
        ],
        { stdio: 'ignore', timeout: 5000 },
      );
      break;
    } catch {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`sshd did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, clientKey, knownHosts, url: (repoPath) => `ssh://${user}@127.0.0.1:${port}${repoPath}` };
}
