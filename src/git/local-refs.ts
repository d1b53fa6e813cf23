// The refs of a repository on this machine (a local path or a file:// URL), read from its files instead of
// starting `git ls-remote` (git, sh and git-upload-pack: three processes per check). Only the plain layout is
// read: loose refs and packed-refs. Whatever git might read differently (reftable or another extension, an
// include in the config, hidden refs, a linked work tree, a repo owned by another user, a loose tag whose
// peeled commit would need the object itself) makes this answer `undefined`, and git answers instead.
//
// The reads are synchronous on purpose: a dozen small local files, where each asynchronous call would cost
// more in its thread-pool round trip and promise than the read itself (at 1,000 repos a cycle, that is most
// of the check).
//
// A listing is kept with the stat of every file and folder it was read from (taken before the read). The
// next check of an unchanged repository stats those paths and answers from memory: every way git changes a
// ref (a new file renamed into place, packed-refs rewritten, a ref deleted) and every write in place by
// another tool changes a stat's inode, size, mtime or ctime. A stat can miss a change made within the same
// tick of the file system's clock as the one before, so a listing read from anything changed in the last
// RACY_MS is not kept (git judges its index entries "racily clean" the same way).

import { readdirSync, readFileSync, statSync, type Dirent, type Stats } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { isSha } from '../domain.js';
import { matches, RefListingBuilder, type RefListing, type RefPatterns } from './refs.js';

/** The folder a local remote names, or undefined for a file:// URL with a host (git's to judge). */
export function localPath(remote: string): string | undefined {
  if (!remote.startsWith('file://')) return path.isAbsolute(remote) ? remote : undefined;
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    return undefined;
  }
  if (url.host !== '') return undefined;
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
}

const MAX_SYMREF_DEPTH = 5;

/** Something git may read differently: the whole listing is left to git. */
class NotPlain extends Error {}

/** Changes younger than this may share a timestamp with the next one: what was read from them is not kept. */
const RACY_MS = 2_000;
/** More cached listings than this (repos come and go over a daemon's life) and the cache starts over. */
const MAX_CACHED = 20_000;

/**
 * What a path looked like before it was read, as a short text of the stat's fields `same` compares; undefined
 * when it did not exist. Not the Stats object: a daemon watching 10,000 repos keeps about 60,000 of these,
 * and on Node 20 each Stats holds four Dates and fourteen boxed numbers (about 50 MB in all).
 */
type Seen = readonly [path: string, print: string | undefined];

function printOf(stat: Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.mode}:${stat.uid}:${stat.dev}`;
}

interface Cached {
  readonly seen: readonly Seen[];
  readonly listing: RefListing;
}

const cache = new Map<string, Cached>();
/** Listings answered from the cache; tests read it to know the cache was used. */
export const localRefCache = { hits: 0 };

/**
 * A path's stat; undefined when it does not exist (ENOENT, or ENOTDIR: a folder on the way is a file, as
 * when `refs/heads/release` is a branch and `refs/heads/release/1.0` is asked for); null when it cannot be
 * looked at (permissions, a symlink loop).
 */
function statOf(file: string): Stats | undefined | null {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? undefined : null;
  }
}

function same(a: Stats | undefined | null, print: string | undefined): boolean {
  if (a === null) return false;
  if (a === undefined || print === undefined) return a === undefined && print === undefined;
  return printOf(a) === print;
}

/** Every path a listing was read from, stat first; `racy` when one of them changed too recently to tell the next change by its stat. */
class Trail {
  readonly seen: Seen[] = [];
  racy = false;
  private readonly since = Date.now() - RACY_MS;

  stat(file: string): Stats | undefined {
    const stat = statOf(file);
    // A path that cannot be looked at is git's to judge, now and at the next check.
    if (stat === null) throw new NotPlain();
    this.seen.push([file, stat === undefined ? undefined : printOf(stat)]);
    if (stat !== undefined && (stat.mtimeMs > this.since || stat.ctimeMs > this.since)) this.racy = true;
    return stat;
  }
}

export function readLocalRefs(dir: string, patterns: RefPatterns): RefListing | undefined {
  const key = `${dir}\0${patterns.join('\0')}`;
  const cached = cache.get(key);
  if (cached !== undefined && cached.seen.every(([file, print]) => same(statOf(file), print))) {
    localRefCache.hits++;
    return cached.listing;
  }
  cache.delete(key);
  const trail = new Trail();
  let listing: RefListing | undefined;
  try {
    listing = readPlainRefs(dir, patterns, trail);
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
  if (listing !== undefined && !trail.racy) {
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, { seen: trail.seen, listing });
  }
  return listing;
}

function readPlainRefs(dir: string, patterns: RefPatterns, trail: Trail): RefListing | undefined {
  const gitdir = findGitDir(dir, trail);
  if (gitdir === undefined) return undefined;
  if (!plainLayout(gitdir, trail)) return undefined;
  const packed = readPacked(gitdir, trail);
  if (packed === undefined) return undefined;
  const wantsTags = patterns.some((p) => p.startsWith('refs/tags/') || 'refs/tags/'.startsWith(p));
  if (wantsTags && !packed.peeledTags) return undefined;

  const loose = new Map<string, string>();
  for (const prefix of patterns) {
    if (!prefix.startsWith('refs/')) continue;
    if (!readLoose(gitdir, prefix, loose, trail)) return undefined;
  }
  // A loose tag is an object this file cannot peel without reading the object: git reads it.
  if ([...loose.keys()].some((name) => name.startsWith('refs/tags/'))) return undefined;

  const resolve = (name: string, depth = 0): string | undefined => {
    if (depth > MAX_SYMREF_DEPTH || (name !== 'HEAD' && !/^refs\/(?!.*(?:\.\.|\/\/|\/\.|\.lock$))[^\0\\]+$/.test(name))) throw new NotPlain();
    // A name under a listed prefix is loose only if the listing found it; others may be loose anywhere.
    const listed = patterns.some((p) => p.startsWith('refs/') && name.startsWith(p));
    const value = loose.get(name) ?? (listed ? undefined : readRefFile(gitdir, name, trail)) ?? packed.refs.get(name);
    if (value === undefined) return undefined;
    if (value.startsWith('ref: ')) return resolve(value.slice('ref: '.length), depth + 1);
    return isSha(value) ? value : undefined;
  };

  const listing = new RefListingBuilder(patterns);
  if (matches(patterns, 'HEAD')) {
    const head = readRefFile(gitdir, 'HEAD', trail);
    // A HEAD that is neither a symref nor a commit makes git call the folder no repository at all.
    if (head === undefined || (!head.startsWith('ref: ') && !isSha(head))) return undefined;
    const sha = head.startsWith('ref: ') ? resolve(head.slice('ref: '.length), 1) : head;
    // Like upload-pack, an unborn HEAD (an empty repository) is not advertised at all.
    if (sha !== undefined) {
      listing.add('HEAD', sha);
      if (head.startsWith('ref: ')) listing.symref('HEAD', head.slice('ref: '.length));
    }
  }
  const names = new Set([...[...packed.refs.keys()].filter((name) => matches(patterns, name)), ...loose.keys()]);
  for (const name of [...names].sort()) {
    const sha = resolve(name);
    if (sha === undefined) continue;
    listing.add(name, sha);
    const peeled = packed.peeled.get(name);
    if (peeled !== undefined && loose.get(name) === undefined) listing.add(`${name}^{}`, peeled);
  }
  return listing.build();
}

/** The user gitwatch runs as: git refuses a repository another user owns, and that refusal is git's to give. */
let me: number | undefined;

/** The repository's git folder as git-upload-pack would find it first (`DIR/.git`, then `DIR`). */
function findGitDir(dir: string, trail: Trail): string | undefined {
  me ??= userInfo().uid;
  const top = trail.stat(dir);
  if (top?.isDirectory() !== true || top.uid !== me) return undefined;
  const dotGit = path.join(dir, '.git');
  const dotGitStat = trail.stat(dotGit);
  if (dotGitStat !== undefined) {
    // A .git file points elsewhere (a linked work tree, a submodule): git follows it.
    if (!dotGitStat.isDirectory() || dotGitStat.uid !== me) return undefined;
    return isGitDir(dotGit, trail) ? dotGit : undefined;
  }
  return isGitDir(dir, trail) ? dir : undefined;
}

function isGitDir(dir: string, trail: Trail): boolean {
  return trail.stat(path.join(dir, 'objects'))?.isDirectory() === true && trail.stat(path.join(dir, 'refs'))?.isDirectory() === true;
}

/**
 * Whether git would read the refs the way this file does: no commondir (a linked work tree), and a config
 * without includes, hidden refs, or any extension but the object format.
 */
function plainLayout(gitdir: string, trail: Trail): boolean {
  if (trail.stat(path.join(gitdir, 'commondir')) !== undefined) return false;
  const config = readText(path.join(gitdir, 'config'), trail);
  if (config === undefined) return false;
  let section = '';
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)/.exec(line);
    if (header?.[1] !== undefined) {
      section = header[1].toLowerCase();
      if (section === 'include' || section === 'includeif') return false;
      continue;
    }
    const key = /^([A-Za-z][A-Za-z0-9-]*)/.exec(line)?.[1]?.toLowerCase();
    if (key === undefined) return false;
    if (section === 'extensions' && key !== 'objectformat') return false;
    if (key === 'hiderefs') return false;
    if (section === 'core' && key === 'repositoryformatversion' && !/=\s*[01]\s*$/.test(line)) return false;
  }
  return true;
}

interface Packed {
  readonly refs: Map<string, string>;
  readonly peeled: Map<string, string>;
  /** Every tag's peeled commit is in the file (its `peeled` or `fully-peeled` trait). */
  readonly peeledTags: boolean;
}

function readPacked(gitdir: string, trail: Trail): Packed | undefined {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  const file = path.join(gitdir, 'packed-refs');
  trail.stat(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { refs, peeled, peeledTags: true };
    return undefined;
  }
  let traits: string[] = [];
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# pack-refs with:')) {
      traits = line.slice('# pack-refs with:'.length).trim().split(/\s+/);
      continue;
    }
    if (line.startsWith('^')) {
      const sha = line.slice(1);
      if (last === undefined || !isSha(sha)) return undefined;
      peeled.set(last, sha);
      continue;
    }
    const space = line.indexOf(' ');
    const sha = line.slice(0, space);
    const name = line.slice(space + 1);
    if (space < 0 || !isSha(sha) || !name.startsWith('refs/')) return undefined;
    refs.set(name, sha);
    last = name;
  }
  return { refs, peeled, peeledTags: traits.includes('peeled') || traits.includes('fully-peeled') };
}

/** Loose refs whose names start with `prefix`, into `into`. False when something there is not a plain ref file. */
function readLoose(gitdir: string, prefix: string, into: Map<string, string>, trail: Trail): boolean {
  const slash = prefix.lastIndexOf('/');
  const folder = prefix.slice(0, slash + 1);
  const walk = (relative: string): boolean => {
    let entries: Dirent[];
    const folder = path.join(gitdir, relative);
    trail.stat(folder);
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR';
    }
    for (const entry of entries) {
      const name = `${relative}${entry.name}`;
      // A ref being written (its .lock) and names git would not take are not refs.
      if (entry.name.startsWith('.') || entry.name.endsWith('.lock')) continue;
      if (!name.startsWith(prefix) && !prefix.startsWith(`${name}/`)) continue;
      if (entry.isDirectory()) {
        if (!walk(`${name}/`)) return false;
      } else if (entry.isFile()) {
        if (!name.startsWith(prefix)) continue;
        const value = readRefFile(gitdir, name, trail);
        if (value === undefined) return false;
        into.set(name, value);
      } else {
        return false;
      }
    }
    return true;
  };
  return walk(folder);
}

function readRefFile(gitdir: string, name: string, trail: Trail): string | undefined {
  return readText(path.join(gitdir, name), trail)?.trim();
}

function readText(file: string, trail: Trail): string | undefined {
  trail.stat(file);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
