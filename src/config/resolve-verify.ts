// `verify:` resolved: which keys count for a repo (its own `verify`, or the defaults'), and where in the file
// each key file is named, so that config/key-files.ts can report a file it cannot use at its line.

import path from 'node:path';
import type { KeyPath } from './diagnostics.js';
import type { RawRepo, RawVerify } from './raw.js';
import type { ConfigPlace, VerifyConfig, VerifyMode } from './types.js';

/** What resolving `verify:` asks of the resolver (resolve.ts). */
export interface VerifyResolver {
  text(path: KeyPath, value: string): { value: string };
  place(path: KeyPath, atKey?: boolean): ConfigPlace;
  fail(path: KeyPath, message: string, atKey?: boolean): void;
}

const VERIFY_MODES: readonly string[] = ['head', 'tag', 'tag-and-head'] satisfies VerifyMode[];

/** The repo's own `verify` (it replaces the defaults' one), or the defaults'; a tag mode needs a `tag:` repo. */
export function verifyOf(r: VerifyResolver, name: string, repo: RawRepo, inherited: VerifyConfig | undefined, dir: string): VerifyConfig | undefined {
  const own = repo.verify === undefined ? undefined : resolveVerify(r, ['repos', name, 'verify'], repo.verify, dir);
  const verify = repo.verify === undefined ? inherited : own;
  if (verify !== undefined && verify.mode !== 'head' && repo.tag === undefined) {
    // Said where the schema says it for a repo's own verify (so the two make one problem), else at the repo.
    if (repo.verify !== undefined)
      r.fail(['repos', name, 'verify'], `verify mode '${verify.mode}' checks the tag a 'tag:' repo follows; this repo follows a branch (use mode: head)`, true);
    else
      r.fail(
        ['repos', name],
        `defaults.verify has mode '${verify.mode}', which checks the tag a 'tag:' repo follows; repo '${name}' follows a branch (give it a verify with mode: head)`,
        true,
      );
  }
  return verify;
}

/** `verify:` with its key files' paths made absolute; the files are read by config/key-files.ts, not here. */
export function resolveVerify(r: VerifyResolver, at: KeyPath, verify: RawVerify | undefined, dir: string): VerifyConfig | undefined {
  if (typeof verify !== 'object' || verify === null || !VERIFY_MODES.includes(verify.mode)) return undefined;
  const file = (keyPath: KeyPath, value: unknown): { path: string; at: ConfigPlace }[] =>
    typeof value === 'string' ? [{ path: path.resolve(dir, r.text(keyPath, value).value), at: r.place(keyPath) }] : [];
  const gpg = Array.isArray(verify.gpg_keys) ? verify.gpg_keys.flatMap((value, i) => file([...at, 'gpg_keys', i], value)) : [];
  const ssh = file([...at, 'ssh_allowed_signers'], verify.ssh_allowed_signers);
  // Neither or both: the schema says so.
  if (gpg.length > 0 === ssh.length > 0) return undefined;
  return { mode: verify.mode, kind: gpg.length > 0 ? 'gpg' : 'ssh', at: r.place(at, true), files: gpg.length > 0 ? gpg : ssh };
}
