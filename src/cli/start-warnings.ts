// What a command that talks to remotes or holds the state says before it starts: settings that weaken what
// gitwatch protects, each in one line on stderr. None stops it; each names what to change.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import type { Env } from '../domain.js';
import { sslVerifyOff } from '../git/tls-trust.js';

const STICKY = 0o1000;
const OTHERS_WRITE = 0o002;

export async function startWarnings(config: ResolvedConfig, env: Env): Promise<string[]> {
  const warnings: string[] = [];
  if (sslVerifyOff(env)) {
    warnings.push(
      'GIT_SSL_NO_VERIFY is set: the TLS certificates of https remotes are not verified (as in git), so a server that impersonates one gets its credentials',
    );
  }
  if (env['NODE_TLS_REJECT_UNAUTHORIZED'] === '0') {
    warnings.push('NODE_TLS_REJECT_UNAUTHORIZED=0 does not apply to gitwatch: it verifies TLS as git does (GIT_SSL_NO_VERIFY turns that off)');
  }
  const folder = path.dirname(config.statePath);
  const mode = (await stat(folder).catch(() => undefined))?.mode;
  if (mode !== undefined && (mode & OTHERS_WRITE) !== 0 && (mode & STICKY) === 0) {
    warnings.push(
      `the state's folder ${folder} is writable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}) without the sticky bit: ` +
        `they can replace the state file or pose as the daemon's socket; make it writable by its owner only (chmod o-w) or keep the state elsewhere`,
    );
  }
  return warnings;
}
