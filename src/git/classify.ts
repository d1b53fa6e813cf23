// Turns git's stderr into an error kind and one readable line, credentials removed.

import type { GitErrorKind } from '../errors.js';
import { GitError } from '../errors.js';
import { redactUrls } from './remote-url.js';

const RULES: readonly (readonly [GitErrorKind, RegExp])[] = [
  ['host-key', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i],
  ['auth', /Authentication failed|could not read (Username|Password)|Permission denied \(|Access denied|HTTP 40[13]|returned error: 40[13]|invalid credentials/i],
  ['not-found', /does not appear to be a git repository|Repository not found|repository '.*' not found|No such file or directory|HTTP 404|returned error: 404|not a git repository|No such repository/i],
  ['unreachable', /Could not resolve host|Connection refused|Connection timed out|Connection reset|unable to connect|Network is unreachable|unable to access|Failed to connect|early EOF|remote end hung up|Could not read from remote repository|No route to host/i],
];

const LABEL: Readonly<Record<GitErrorKind, string>> = {
  'host-key': 'host key check failed',
  auth: 'authentication refused',
  'not-found': 'repository not found',
  unreachable: 'remote unreachable',
  'branch-missing': 'branch missing',
  timeout: 'git timed out',
  aborted: 'git stopped',
  other: 'git failed',
};

export function classifyGitFailure(stderr: string, context: string): GitError {
  const text = redactUrls(stderr);
  const kind = RULES.find(([, re]) => re.test(text))?.[0] ?? 'other';
  const lines = text
    .split('\n')
    .map((l) => l.replace(/^(fatal|error|ssh): /, '').trim())
    .filter((l) => l !== '' && !/^(warning|hint):/.test(l));
  const detail = lines.find((l) => RULES.some(([, re]) => re.test(l))) ?? lines[0] ?? 'no message';
  const hint = kind === 'host-key' ? ` (add the host's key to the known_hosts file, e.g. with ssh-keyscan, and check its fingerprint)` : '';
  return new GitError(kind, `${context}: ${LABEL[kind]}: ${detail}${hint}`);
}
