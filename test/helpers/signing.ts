// Keys made for a test, and commits and tags signed with them, by real gpg and ssh-keygen: an OpenPGP key in
// a GnuPG home of its own (no passphrase, so no prompt), one whose validity ended long ago (made and used
// at a faked time), and SSH keys with their allowed-signers lines. Every gpg-agent a signature starts is
// stopped when the test ends.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { TestRepo } from './git-fixtures.js';
import { testEnv } from './temp.js';

/** Set by .ci/run, which installs gnupg: there a missing gpg fails the signed-commit tests instead of skipping them. */
export const REQUIRE_GPG = 'GITWATCH_TEST_REQUIRE_GPG';

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, command)));
}

/** Why the signed-commit tests cannot run here, if they cannot (printed as the skip's reason). */
export function signingToolsMissing(): string | undefined {
  const missing = [
    !onPath('gpg') && 'gpg (package gnupg)',
    !onPath('gpgconf') && 'gpgconf (package gnupg)',
    !onPath('ssh-keygen') && 'ssh-keygen (package openssh-client)',
  ].filter((x): x is string => typeof x === 'string');
  if (missing.length === 0) return undefined;
  const reason = `needs ${missing.join(', ')}; .ci/run installs them`;
  if (process.env[REQUIRE_GPG] === '1') throw new Error(`${REQUIRE_GPG}=1 but the signed-commit tests ${reason}`);
  return reason;
}

export interface GpgKey {
  /** Its own GnuPG home, with the secret key. */
  readonly home: string;
  readonly email: string;
  /** The long key id gpg and git print (`751A752D12DEFC88`). */
  readonly keyId: string;
  /** The armored public key, as `gpg --armor --export` writes it. */
  readonly publicKey: string;
  /** The gpg git runs to sign: a wrapper that fakes the time for a key that has expired since. */
  readonly program: string;
}

/** When an expired key lived: made at the start of 2020, valid for a day, used at noon of that day. */
const EXPIRED_MADE = '20200101T000000';
const EXPIRED_USED = '20200101T120000';

/**
 * An OpenPGP signing key (ed25519, no passphrase) in a GnuPG home under `dir`; `expired`: one that expired
 * in 2020 (made and signing at a faked time), so its signatures are good but by an expired key.
 */
export async function makeGpgKey(t: TestContext, dir: string, name: string, options: { expired?: boolean } = {}): Promise<GpgKey> {
  const home = path.join(dir, `gnupg-${name}`);
  await mkdir(home, { recursive: true, mode: 0o700 });
  t.after(() => stopAgent(home));
  const email = `${name}@example.invalid`;
  const params = path.join(dir, `${name}.params`);
  const expire = options.expired === true ? '1d' : '0';
  await writeFile(
    params,
    `%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nName-Real: ${name}\nName-Email: ${email}\nExpire-Date: ${expire}\n%commit\n`,
  );
  const faked = options.expired === true ? ['--faked-system-time', `${EXPIRED_MADE}!`] : [];
  gpg(home, ['--batch', ...faked, '--gen-key', params]);
  const colons = gpg(home, ['--batch', '--with-colons', ...faked, '--list-keys', email]);
  const keyId = /^pub:[^:]*:[^:]*:[^:]*:([0-9A-F]{16}):/m.exec(colons)?.[1];
  if (keyId === undefined) throw new Error(`no key id for ${email} in:\n${colons}`);
  const publicKey = gpg(home, ['--batch', '--armor', ...faked, '--export', email]);
  let program = 'gpg';
  if (options.expired === true) {
    program = path.join(dir, `gpg-${name}-2020`);
    await writeFile(program, `#!/bin/sh\nexec gpg --faked-system-time '${EXPIRED_USED}!' "$@"\n`);
    await chmod(program, 0o755);
  }
  return { home, email, keyId, publicKey, program };
}

function gpg(home: string, args: readonly string[]): string {
  return execFileSync('gpg', ['--homedir', home, ...args], { env: { ...process.env, GNUPGHOME: home }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function stopAgent(home: string): void {
  try {
    execFileSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' });
  } catch {
    // No agent ran, or it is gone already.
  }
}

export interface SshKey {
  /** The private key file, which git signs with. */
  readonly file: string;
  /** Its allowed-signers line: `principal ssh-ed25519 AAAA…`. */
  readonly allowed: string;
}

export function makeSshKey(dir: string, principal: string, options: string = ''): SshKey {
  const file = path.join(dir, `ssh-${principal.replace(/[^a-z0-9]/gi, '-')}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', principal, '-f', file], { stdio: 'ignore' });
  const pub = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ');
  return { file, allowed: `${principal}${options === '' ? '' : ` ${options}`} ${pub}` };
}

/** How a commit or tag is signed: by an OpenPGP key, an SSH key, or not at all. */
export type Signing = { readonly gpg: GpgKey } | { readonly ssh: SshKey } | undefined;

/** git's options and environment to sign with `signing` (none: sign nothing). */
function signer(repo: TestRepo, signing: Signing): { config: string[]; env: Record<string, string> } {
  const env = testEnv(repo.dir);
  if (signing === undefined) return { config: [], env };
  if ('gpg' in signing) {
    return { config: ['-c', `user.signingkey=${signing.gpg.email}`, '-c', `gpg.program=${signing.gpg.program}`], env: { ...env, GNUPGHOME: signing.gpg.home } };
  }
  return { config: ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signing.ssh.file}`], env };
}

function git(repo: TestRepo, args: readonly string[], env: Record<string, string>): string {
  return execFileSync('git', args, { cwd: repo.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A new commit on the current branch, signed as `signing` says; its SHA. */
export function commitSigned(repo: TestRepo, signing: Signing, message = 'a change'): string {
  const { config, env } = signer(repo, signing);
  git(repo, [...config, 'commit', '--quiet', '--allow-empty', ...(signing === undefined ? [] : ['-S']), '-m', message], env);
  return repo.head();
}

/** An annotated tag at HEAD, signed as `signing` says (unsigned: a plain annotated tag). */
export function tagSigned(repo: TestRepo, name: string, signing: Signing): void {
  const { config, env } = signer(repo, signing);
  git(repo, [...config, 'tag', signing === undefined ? '-a' : '-s', '-m', `release ${name}`, name], env);
}

/**
 * A copy of the head commit, signature and all, with its message changed: the signature no longer fits
 * what it signs. The branch is moved to it; its SHA.
 */
export function breakSignature(repo: TestRepo): string {
  const env = testEnv(repo.dir);
  const object = git(repo, ['cat-file', 'commit', 'HEAD'], env);
  const tampered = `${object.replace(/\n\n([^\n]*)$/, '\n\n$1 (tampered)')}\n`;
  const sha = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo.dir, env, input: tampered, encoding: 'utf8' }).trim();
  git(repo, ['update-ref', 'HEAD', sha], env);
  return sha;
}
