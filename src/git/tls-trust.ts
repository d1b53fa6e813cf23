// Which certificate authorities the in-process HTTPS check trusts: exactly those git would, and nothing from
// Node's own environment. Node reads NODE_TLS_REJECT_UNAUTHORIZED (verification off) and NODE_EXTRA_CA_CERTS
// (more authorities) by itself; git reads neither, so the check passes its own `ca` and `rejectUnauthorized`
// and never lets Node choose. Whatever git would decide from settings Node cannot follow (a CA folder, a
// client certificate, OpenSSL's variables, verification turned off) is left to git.

import { readFileSync } from 'node:fs';
import { err, ok, type Env, type Result } from '../domain.js';

/**
 * The system's bundle of trusted authorities, where distributions keep it (the list Go's crypto/x509 reads):
 * Debian and Ubuntu, Fedora and RHEL 6, openSUSE, OpenELEC, CentOS and RHEL 7, Alpine and macOS. git's TLS
 * library (curl with GnuTLS or OpenSSL) trusts this store unless told otherwise.
 */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/** git's own opt-out: set at all (even empty), git verifies no certificate (http.c reads it with getenv). */
export function sslVerifyOff(env: Env): boolean {
  return env['GIT_SSL_NO_VERIFY'] !== undefined;
}

/**
 * The authorities (PEM) git would trust for an https remote under `env`, or why git must be asked instead.
 * GIT_SSL_CAINFO, when set, is the only file git trusts; otherwise the system's bundle.
 */
export function gitTrust(env: Env, read: (file: string) => string = (file) => readFileSync(file, 'utf8'), bundles = SYSTEM_CA_BUNDLES): Result<string, string> {
  if (sslVerifyOff(env)) return err('GIT_SSL_NO_VERIFY is set');
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  // With GIT_SSL_CAINFO set, git trusts that file alone, and OpenSSL's SSL_CERT_FILE and SSL_CERT_DIR no longer count.
  const other = set('GIT_SSL_CAINFO') ? [] : ['SSL_CERT_FILE', 'SSL_CERT_DIR'];
  for (const name of ['GIT_SSL_CAPATH', 'GIT_SSL_CERT', 'GIT_SSL_KEY', ...other]) if (set(name)) return err(`${name} is set`);
  const files = set('GIT_SSL_CAINFO') ? [env['GIT_SSL_CAINFO'] ?? ''] : bundles;
  for (const file of files) {
    try {
      return ok(read(file));
    } catch {
      // The next place; git says what it makes of a file it cannot read.
    }
  }
  return err(set('GIT_SSL_CAINFO') ? 'GIT_SSL_CAINFO cannot be read' : "no system CA bundle was found (git's TLS library decides)");
}
