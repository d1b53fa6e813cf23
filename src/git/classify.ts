// Turns git's stderr into an error kind and one readable line, credentials removed. The rules are tried in
// order: forges print a specific line ("Repository not found") before git's generic "Could not read from
// remote repository", so the specific kinds come first and "unreachable" last.

import { GitError, type GitErrorKind } from '../errors.js';
import { redactUrls } from '../rules/remote-url.js';

const RULES: readonly (readonly [GitErrorKind, RegExp])[] = [
  // git's "Could not read from remote repository" follows both, so they come before "unreachable".
  ['dubious-ownership', /detected dubious ownership/i],
  // A server that lets only advertised commits be fetched (git's protocol v0, by default), asked for one it no longer advertises.
  ['unadvertised', /request for unadvertised object|upload-pack: not our ref/i],
  ['corrupt', /loose object \S+ .*is corrupt|did not receive expected object|bad object|object file \S+ is empty|packfile \S+ .*corrupt/i],
  ['host-key', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i],
  // git daemon's refusal says "access denied" too, but it means the path is not served.
  ['not-found', /repository not exported/i],
  ['tls', /SSL certificate problem|server certificate verification failed|certificate verify failed|unable to get local issuer certificate/i],
  [
    'auth',
    /Authentication failed|could not read (Username|Password)|Permission denied \(|Access denied|HTTP 40[13]|returned error: 40[13]|invalid credentials|: Unauthorized|Invalid username or password/i,
  ],
  [
    'not-found',
    /does not appear to be a git repository|Repository not found|repository '.*' not found|could not be found|does not exist|not exported|No such file or directory|HTTP 404|returned error: 404|not a git repository|No such repository/i,
  ],
  // A server that breaks the protocol (a corrupt advertisement) is the server's fault, and may pass.
  [
    'server-error',
    /returned error: (5\d\d|429)|HTTP (5\d\d|429)|Internal Server Error|Service Unavailable|Bad Gateway|RPC failed|protocol error|invalid server response/i,
  ],
  [
    'unreachable',
    /Could not resolve host|Connection refused|Connection timed out|Connection reset|unable to connect|Network is unreachable|unable to access|Failed to connect|early EOF|remote end hung up|Could not read from remote repository|No route to host/i,
  ],
];

const LABEL: Readonly<Record<GitErrorKind, string>> = {
  'host-key': 'host key check failed',
  tls: 'TLS certificate check failed',
  auth: 'authentication refused',
  'not-found': 'repository not found',
  'server-error': 'server error',
  unreachable: 'remote unreachable',
  'branch-missing': 'branch missing',
  'invalid-name': 'invalid name',
  'dubious-ownership': 'repository owned by another user',
  corrupt: 'corrupt object in the remote',
  'too-large': 'the remote sends too much',
  unadvertised: 'the remote no longer advertises it',
  timeout: 'git timed out',
  aborted: 'git stopped',
  other: 'git failed',
};

const HINT: Partial<Record<GitErrorKind, string>> = {
  'host-key': ` (add the host's key to the known_hosts file, e.g. with ssh-keyscan, and check its fingerprint)`,
  tls: ' (for a private CA, point GIT_SSL_CAINFO or GIT_SSL_CAPATH at it)',
  // gitwatch ignores the global git config, so git's own advice (safe.directory there) would not help.
  'dubious-ownership': ' (make it owned by the user gitwatch runs as, or serve it over ssh or git daemon as its owner; see README, Troubleshooting)',
  corrupt: ' (repair the remote: git fsck there shows what is broken)',
};

/** The longest stderr kept as a cause: enough for any real message, bounded for a remote that floods it. */
const MAX_STDERR = 8 * 1024;

/**
 * ssh ignores a private key that others may read, then fails as "Permission denied (publickey)", which
 * alone points at the server. Its own warning names the file and its mode: said instead, with the fix.
 */
function unprotectedKey(text: string, context: string): GitError | undefined {
  const tooOpen = /Permissions (0?[0-7]{3,4}) for '([^'\n]+)' are too open/.exec(text);
  const bad = tooOpen ?? /Load key "([^"\n]+)": bad permissions/.exec(text);
  if (bad === null) return undefined;
  const [file, mode] = tooOpen === null ? [bad[1] ?? '', undefined] : [tooOpen[2] ?? '', tooOpen[1]];
  const why = mode === undefined ? 'others may read it' : `its mode ${mode} lets other users read it`;
  return new GitError(
    'auth',
    `${context}: ${LABEL.auth}: ssh ignored the key file ${file}: ${why}, and ssh uses no private key that others can read; make it owner-only: chmod 600 ${file}`,
    text.trim(),
  );
}

export function classifyGitFailure(stderr: string, context: string): GitError {
  const text = redactUrls(stderr).slice(0, MAX_STDERR);
  const key = unprotectedKey(text, context);
  if (key !== undefined) return key;
  const rule = RULES.find(([, re]) => re.test(text));
  const kind = rule?.[0] ?? 'other';
  const lines = text
    .split('\n')
    .map((l) => l.replace(/^(fatal|error|ssh|remote): /, '').trim())
    .filter((l) => l !== '' && !/^(warning|hint):/.test(l) && !/^[=\s]*$/.test(l));
  const detail = (rule && lines.find((l) => rule[1].test(l))) ?? lines[0] ?? 'no message';
  return new GitError(kind, `${context}: ${LABEL[kind]}: ${detail}${HINT[kind] ?? ''}`, text.trim());
}
