// The document of a config as read last time, so that a start (`once` from cron, `status`, `plan`, a
// reload) does not parse the same YAML again: 500 repos are 50 KB of YAML and 170 ms of a cold start to
// parse, and a few milliseconds as JSON; even the example's 26 lines cost a cold start 30 ms. Only what the
// YAML parser produced is kept; the schema, every rule and the environment's `${VAR}`s are applied on each
// load as before, and a problem is placed by parsing the YAML then.
//
// One file per config path, in a folder of this user's own that nobody else may write to (the same rule as
// the compile cache in bin/gitwatch.js): the document names the commands gitwatch runs. It holds what the
// config holds, no more; a config that keeps a token in a URL has it copied there, readable by this user only.

import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pkg from '../../package.json' with { type: 'json' };
import yamlPkg from 'yaml/package.json' with { type: 'json' };
import { parseConfig, type ParseOptions, type ParseResult } from './parse.js';

/** Entries kept in the folder: past this, the ones written longest ago go (a test suite or CI writes many). */
export const MAX_ENTRIES = 256;

/**
 * A file name for a config path (two 32-bit FNV-1a hashes): not a secret and not trusted, as each entry
 * holds the path and the text it was read from and is used only when both are the same. node:crypto
 * would load 21 more of Node's built-in modules at every start.
 */
function nameOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ text.charCodeAt(i), 0x01000193);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

/** Whether a file or folder is this user's and nobody else may write to it. */
function mine(stat: Stats, uid: number): boolean {
  return stat.uid === uid && (stat.mode & 0o022) === 0;
}

/**
 * The cache folder, made owner-only; undefined when it cannot be, or is not, this user's alone. Not a
 * symlink: one that another user swaps between this check and a read could point at a folder of theirs.
 */
function cacheDir(): { dir: string; uid: number } | undefined {
  try {
    const { uid } = userInfo();
    const dir = path.join(tmpdir(), `gitwatch-config-cache-${uid}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0 ? { dir, uid } : undefined;
  } catch {
    return undefined;
  }
}

/** An entry's text, if the file is a plain file of this user's that nobody else may write to (a symlink is not followed). */
function readEntry(file: string, uid: number): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stat = fstatSync(fd);
    return stat.isFile() && mine(stat, uid) ? readFileSync(fd, 'utf8') : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What read the document: gitwatch (its syntax rules) and the YAML parser. */
const VERSION = `gitwatch ${pkg.version}, yaml ${yamlPkg.version}`;

interface Entry {
  readonly version: string;
  readonly path: string;
  readonly text: string;
  readonly data: unknown;
}

/** parseConfig, with the document of the same text (and the same gitwatch) taken from the cache. */
export function parseConfigCached(text: string, options: ParseOptions): ParseResult {
  const cache = cacheDir();
  if (cache === undefined) return parseConfig(text, options);
  const { dir, uid } = cache;
  const file = path.join(dir, `config-${nameOf(options.absolutePath)}.json`);
  const key = { version: VERSION, path: options.absolutePath, text };
  let known: unknown;
  try {
    const entry = JSON.parse(readEntry(file, uid) ?? 'null') as Entry | null;
    if (entry?.version === key.version && entry.path === key.path && entry.text === key.text) known = entry.data;
  } catch {
    // No entry, or one cut short: parse the YAML.
  }
  let fresh: unknown;
  const result = parseConfig(text, { ...options, data: known, onData: (data) => (fresh = data) });
  if (result.ok && fresh !== undefined) store(dir, file, { ...key, data: fresh });
  return result;
}

function store(dir: string, file: string, entry: Entry): void {
  const json = JSON.stringify(entry);
  // Only a document JSON carries unchanged is kept (YAML's .inf, for one, would come back as null).
  if (!isDeepStrictEqual((JSON.parse(json) as Entry).data, entry.data)) return;
  const temp = `${file}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, json, { mode: 0o600 });
    renameSync(temp, file);
    prune(dir);
  } catch {
    // A full disk or a read-only /tmp: the next start parses the YAML, nothing worse.
    rmSync(temp, { force: true });
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir).filter((name) => name.startsWith('config-'));
  if (names.length <= MAX_ENTRIES) return;
  const written = names.map((name) => ({ name, at: statSync(path.join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  written.sort((a, b) => a.at - b.at);
  for (const { name } of written.slice(0, written.length - MAX_ENTRIES)) rmSync(path.join(dir, name), { force: true });
}
