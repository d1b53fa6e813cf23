// git's own switch for TLS verification, `http.sslVerify` (and `http.<url>.sslVerify`), as the operator set it
// in git's config: the system and global files and the GIT_CONFIG_* variables. gitwatch's git reads none of
// those (git-env.ts isolates it), so these few keys are read here, once, and handed to every git command
// that talks to an http(s) remote; git then matches them to URLs by its own rules. A remote whose
// certificates git would not verify is never asked by the in-process client: git asks it, as it would.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { err, ok, type Env, type Result } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { runGitProcess } from './git-process.js';

/** Reading a few config keys: longer only on a machine that is stuck. */
const READ_TIMEOUT_MS = 10_000;

/** The variables that would make `git config` read a repository's config, which a fetch from gitwatch's store never reads. */
const REPOSITORY_VARS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES'];

export class GitSslSettings {
  private readonly verdicts = new Map<string, Promise<boolean>>();

  private constructor(
    /** `[key, value]` as git lists them (`http.https://host/.sslverify`, `false`), in git's order. */
    readonly entries: readonly (readonly [string, string])[],
    private readonly ask: (args: readonly string[]) => Promise<Result<string, string>>,
  ) {}

  /** The operator's `http.*sslVerify` keys, read as git reads them outside a repository. */
  static async read(env: Env, groups: ProcessGroups, clock: Clock): Promise<GitSslSettings> {
    if (!(await mayHoldSslVerify(env))) return GitSslSettings.none();
    const own: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) if (value !== undefined && !REPOSITORY_VARS.includes(key)) own[key] = value;
    const ask = async (args: readonly string[]): Promise<Result<string, string>> => {
      // `-C /`: outside any repository, so a config repo that gitwatch was started in adds nothing.
      const outcome = await runGitProcess(['-C', '/', 'config', ...args], { env: own, timeoutMs: READ_TIMEOUT_MS, groups, clock });
      if (outcome.code === 0) return ok(outcome.stdout);
      // 1: nothing set.
      if (outcome.code === 1) return ok('');
      return err(outcome.stderr.trim() || `git config exited with code ${outcome.code ?? '?'}`);
    };
    const listed = await ask(['-z', '--get-regexp', '^http\\..*sslverify$']);
    // Unreadable settings (a broken config file) are git's to report when it fetches; here they verify nothing less.
    const entries = listed.ok ? parseEntries(listed.value) : [];
    return new GitSslSettings(entries, ask);
  }

  /** Settings with no `sslVerify` at all, for tests and for commands that never reach an https remote. */
  static none(): GitSslSettings {
    return new GitSslSettings([], () => Promise.resolve(ok('')));
  }

  /** Whether git verifies the TLS certificate of `url`: its `http.sslVerify` for that URL (git's URL matching). */
  verifies(url: string): Promise<boolean> {
    if (this.entries.length === 0) return Promise.resolve(true);
    let verdict = this.verdicts.get(url);
    if (verdict === undefined) {
      verdict = this.ask(['--type=bool', '--get-urlmatch', 'http.sslverify', url]).then((answer) => !answer.ok || answer.value.trim() !== 'false');
      this.verdicts.set(url, verdict);
    }
    return verdict;
  }
}

/** git reads a boolean variable as false from these (and from an empty value). */
const FALSE_WORDS = new Set(['', '0', 'false', 'no', 'off']);

/**
 * Whether any of git's own config sources could set `http.sslVerify`: a file or variable that names it, or
 * that includes another file. Most machines have none, and then no git process is needed to know.
 */
async function mayHoldSslVerify(env: Env): Promise<boolean> {
  const named = /sslverify|include/i;
  const inline = [env['GIT_CONFIG_PARAMETERS'] ?? ''];
  const count = Number(env['GIT_CONFIG_COUNT'] ?? 0);
  for (let i = 0; Number.isInteger(count) && i < count; i++) inline.push(env[`GIT_CONFIG_KEY_${i}`] ?? '');
  if (inline.some((text) => named.test(text))) return true;
  const home = env['HOME'] ?? os.homedir();
  const files: string[] = [];
  if (FALSE_WORDS.has((env['GIT_CONFIG_NOSYSTEM'] ?? '').toLowerCase())) {
    // Where git builds put the system file: Debian's and most packages', and a git built from source.
    files.push(...(env['GIT_CONFIG_SYSTEM'] !== undefined ? [env['GIT_CONFIG_SYSTEM']] : ['/etc/gitconfig', '/usr/local/etc/gitconfig']));
  }
  if (env['GIT_CONFIG_GLOBAL'] !== undefined) files.push(env['GIT_CONFIG_GLOBAL']);
  else files.push(path.join(env['XDG_CONFIG_HOME'] || path.join(home, '.config'), 'git', 'config'), path.join(home, '.gitconfig'));
  const texts = await Promise.all(files.map((file) => readFile(file, 'utf8').catch(() => '')));
  return texts.some((text) => named.test(text));
}

/** `git config -z --get-regexp`: `key\nvalue\0`, or `key\0` for a key with no value (true). */
export function parseEntries(text: string): (readonly [string, string])[] {
  return text
    .split('\0')
    .filter((record) => record !== '')
    .map((record) => {
      const newline = record.indexOf('\n');
      return newline < 0 ? [record, 'true'] : [record.slice(0, newline), record.slice(newline + 1)];
    });
}
