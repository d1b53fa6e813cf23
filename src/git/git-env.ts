// The environment of every git command gitwatch runs: isolated from the machine's git config and from
// inherited GIT_* variables, with protocols, hooks and helpers pinned so a repo cannot widen them.

import type { Credentials, Env, SshSettings } from '../domain.js';

export const ALLOWED_PROTOCOLS = ['https', 'http', 'ssh', 'git', 'file'] as const;

export interface GitEnvOptions {
  readonly credentials?: Credentials | undefined;
  /** The remote's URL: the credential helper answers only for its host and protocol. */
  readonly url?: string | undefined;
  readonly ssh?: SshSettings | undefined;
  /** The socket of a running SSH master (ssh-master.ts) that this command's ssh joins. */
  readonly sshControl?: string | undefined;
  /** The operator's own `http.*sslVerify` keys (ssl-verify-config.ts): the only part of git's config that passes. */
  readonly sslVerify?: readonly (readonly [string, string])[] | undefined;
  /** A signature check's keys: the only ones that count (see Keyring). */
  readonly keyring?: Keyring | undefined;
}

/**
 * The keys a signature check may use, and the programs that check: a GnuPG home that holds only the
 * configured OpenPGP keys, an allowed-signers file that holds only the configured SSH keys (either may be
 * empty), both made by gitwatch in a folder of its own (verify/keyring.ts).
 */
export interface Keyring {
  readonly gnupgHome: string;
  readonly allowedSigners: string;
  readonly gpg: string;
  readonly sshKeygen: string;
}

/**
 * git runs core.sshCommand through a shell. The paths reach it as variables the shell expands, never as
 * text it parses, so a file name cannot become a command. Host keys are always checked; no prompts.
 */
function sshCommand(ssh: GitEnvOptions['ssh'], control: string | undefined): string {
  const parts = ['ssh', '-o BatchMode=yes', '-o StrictHostKeyChecking=yes'];
  // Join the master when its socket answers, else connect alone; never become a master here.
  if (control !== undefined) parts.push('-o ControlMaster=no', '-o ControlPath="$GITWATCH_SSH_CONTROL"');
  if (ssh?.key !== undefined) parts.push('-i "$GITWATCH_SSH_KEY"', '-o IdentitiesOnly=yes');
  if (ssh?.knownHosts !== undefined) parts.push('-o UserKnownHostsFile="$GITWATCH_SSH_KNOWN_HOSTS"', '-o GlobalKnownHostsFile=/dev/null');
  return parts.join(' ');
}

/**
 * Answers with the credentials from the environment, never from argv (which every local user can read),
 * and only for the configured host and protocol: a redirect to another host gets nothing.
 */
const CREDENTIAL_HELPER =
  '!f() { test "$1" = get || exit 0; h=; p=; while IFS= read -r l; do case "$l" in host=*) h="${l#host=}";; protocol=*) p="${l#protocol=}";; esac; done; ' +
  'test "$h" = "$GITWATCH_GIT_HOST" && test "$p" = "$GITWATCH_GIT_PROTOCOL" || exit 0; ' +
  'printf "username=%s\\npassword=%s\\n" "$GITWATCH_GIT_USERNAME" "$GITWATCH_GIT_PASSWORD"; }; f';

/** Variables that make git start an editor, a pager or an askpass program, or move its install prefix. */
const DROPPED = new Set(['EDITOR', 'VISUAL', 'PAGER', 'SSH_ASKPASS', 'PREFIX']);

/**
 * The inherited GIT_* variables that pass: they only say which certificates to trust or present (a
 * corporate CA, a client certificate), or, GIT_SSL_NO_VERIFY, that the operator turned verification off as
 * git allows (gitwatch warns at start). None can run a program, move a repository or widen a protocol.
 */
export const INHERITED_GIT_VARS: ReadonlySet<string> = new Set([
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'GIT_PROXY_SSL_CAINFO',
  'GIT_SSL_CERT',
  'GIT_SSL_KEY',
  'GIT_SSL_NO_VERIFY',
]);

function inherited(key: string): boolean {
  if (INHERITED_GIT_VARS.has(key)) return true;
  const upper = key.toUpperCase();
  return !upper.startsWith('GIT_') && !upper.startsWith('GITWATCH_GIT_') && !upper.startsWith('GITWATCH_SSH_') && !DROPPED.has(upper);
}

export function gitEnv(base: Env, options: GitEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && inherited(key)) env[key] = value;
  }
  const config: [string, string][] = [
    ['core.hooksPath', '/dev/null'],
    ['core.fsmonitor', 'false'],
    ['core.askPass', ''],
    ['protocol.allow', 'never'],
    ...ALLOWED_PROTOCOLS.map((p): [string, string] => [`protocol.${p}.allow`, 'always']),
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
    ['fetch.recurseSubmodules', 'false'],
    ['submodule.recurse', 'false'],
    ['advice.detachedHead', 'false'],
    ['core.sshCommand', sshCommand(options.ssh, options.sshControl)],
    // An empty value clears any helper list before ours.
    ['credential.helper', ''],
  ];
  for (const [key, value] of options.sslVerify ?? []) config.push([key, value]);
  if (options.keyring !== undefined) {
    // Whatever the signature's format, only these keys count: the user's ~/.gnupg (or GNUPGHOME) is never
    // read, and an X.509 signature, which gitwatch has no keys for, is never accepted.
    env['GNUPGHOME'] = options.keyring.gnupgHome;
    config.push(
      ['gpg.program', options.keyring.gpg],
      ['gpg.ssh.program', options.keyring.sshKeygen],
      ['gpg.ssh.allowedSignersFile', options.keyring.allowedSigners],
      ['gpg.x509.program', 'false'],
    );
  }
  if (options.ssh?.key !== undefined) env['GITWATCH_SSH_KEY'] = options.ssh.key;
  if (options.ssh?.knownHosts !== undefined) env['GITWATCH_SSH_KNOWN_HOSTS'] = options.ssh.knownHosts;
  if (options.sshControl !== undefined) env['GITWATCH_SSH_CONTROL'] = options.sshControl;
  if (options.credentials && options.url !== undefined) {
    const target = new URL(options.url);
    config.push(['credential.helper', CREDENTIAL_HELPER]);
    env['GITWATCH_GIT_HOST'] = target.host;
    env['GITWATCH_GIT_PROTOCOL'] = target.protocol.replace(/:$/, '');
    env['GITWATCH_GIT_USERNAME'] = options.credentials.username;
    env['GITWATCH_GIT_PASSWORD'] = options.credentials.password;
  }
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS.join(':'),
    GIT_PROTOCOL_FROM_USER: '0',
    LC_ALL: 'C',
    GIT_CONFIG_COUNT: String(config.length),
  });
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}
