// What a command that talks to remotes or holds the state says before it starts: settings that weaken what
// gitwatch protects, each in one line on stderr. None stops it; each names what to change.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import type { Env } from '../domain.js';
import { GitSslSettings } from '../git/ssl-verify-config.js';
import { sslVerifyOff } from '../git/tls-trust.js';
import type { Clock } from '../runtime/clock.js';
import type { ProcessGroups } from '../runtime/processes.js';

const STICKY = 0o1000;
const OTHERS_WRITE = 0o002;

/** How many repos a warning names before it says "and N more". */
const NAMED = 5;

export async function startWarnings(config: ResolvedConfig, host: { env: Env; processes: ProcessGroups; clock: Clock }): Promise<string[]> {
  const { env } = host;
  const warnings: string[] = [];
  const https = config.repos.filter((repo) => /^https:\/\//i.test(repo.remote));
  if (sslVerifyOff(env)) {
    warnings.push(
      'GIT_SSL_NO_VERIFY is set: the TLS certificates of https remotes are not verified (as in git), so a server that impersonates one gets its credentials',
    );
  } else if (https.length > 0) {
    const ssl = await GitSslSettings.read(env, host.processes, host.clock);
    const unverified: string[] = [];
    for (const repo of https) if (!(await ssl.verifies(repo.remote))) unverified.push(repo.name);
    if (unverified.length > 0) {
      const named = unverified.slice(0, NAMED).join(', ') + (unverified.length > NAMED ? ` and ${unverified.length - NAMED} more` : '');
      warnings.push(
        `http.sslVerify is false in git's config for ${named}: their TLS certificates are not verified (as in git), so a server that impersonates one gets its credentials`,
      );
    }
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
