// The key files of `verify:`, read when the config is loaded (at start and on every reload): each must be
// there and hold a key, and what they hold is what counts until the next reload, whatever happens to the
// files meanwhile. Each problem is a config problem, at the line that names the file. (That gpg or
// ssh-keygen is on PATH is asked when a command that checks signatures starts: verify/keyring.ts.)

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { err, ok, type Diagnostic, type Result } from '../domain.js';
import { allowedSignersProblem, gpgKeysProblem } from '../rules/key-files.js';
import type { ConfigPlace, ResolvedConfig, VerifyConfig, VerifyKeys } from './types.js';

/** `config` with every `verify`'s keys read; or every problem, `file` being the config as the user named it. */
export async function readKeyFiles(config: ResolvedConfig, file: string): Promise<Result<ResolvedConfig, Diagnostic[]>> {
  const problems: Diagnostic[] = [];
  // A verify in `defaults` is one object that many repos share: read (and reported) once.
  const read = new Map<VerifyConfig, VerifyConfig>();
  for (const repo of config.repos) {
    if (repo.verify !== undefined && !read.has(repo.verify))
      read.set(repo.verify, await withKeys(repo.verify, (at, message) => problems.push({ file, ...at, message })));
  }
  if (problems.length > 0) return err(problems);
  return ok({ ...config, repos: config.repos.map((repo) => (repo.verify === undefined ? repo : { ...repo, verify: read.get(repo.verify) })) });
}

async function withKeys(verify: VerifyConfig, fail: (at: ConfigPlace, message: string) => void): Promise<VerifyConfig> {
  const contents: Buffer[] = [];
  for (const { path: keyFile, at } of verify.files) {
    const bytes = await readFile(keyFile).catch((error: NodeJS.ErrnoException) => {
      fail(at, `cannot read key file ${keyFile}: ${readProblem(error)}`);
      return undefined;
    });
    if (bytes === undefined) continue;
    const problem = verify.kind === 'gpg' ? gpgKeysProblem(bytes) : allowedSignersProblem(bytes.toString('utf8'));
    if (problem !== undefined) fail(at, `key file ${keyFile} has no key: ${problem}`);
    contents.push(bytes);
  }
  const id = createHash('sha256').update(verify.kind);
  for (const bytes of contents) id.update(`\0${bytes.length}\0`).update(bytes);
  const keys: VerifyKeys = { id: id.digest('hex').slice(0, 32), contents: contents.map((b) => b.toString('base64')) };
  return { ...verify, keys };
}

function readProblem(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    default:
      return error.message;
  }
}
