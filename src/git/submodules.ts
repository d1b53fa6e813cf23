// `submodules: true`: after the checkout, each submodule's commit is fetched into a store of its own and
// checked out in its folder, recursively. gitwatch does this itself rather than run `git submodule` in the
// checkout: that would read the checkout's .git, which steps may rewrite, and it would follow nested
// URLs before gitwatch could check them. Every URL passes the rules of `url`; git's protocol allow-list
// (git-env.ts) stands behind that.
//
// git never removes a submodule's files: not when its gitlink goes, and `git clean` skips a gitlink's
// folder. So before each checkout, the folders of submodules the new commit does not check out again
// are emptied here; otherwise the commit that removed a submodule would run with its files still there.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitError } from '../errors.js';
import { parseRemote } from '../rules/remote-url.js';
import type { GitCallOptions, GitClient, Remote } from './client.js';

/** Deeper nesting than this is taken for a loop. */
const MAX_NESTING = 8;

export interface SubmoduleTarget {
  /** The superproject's store, which holds `sha`. */
  readonly store: string;
  /** The superproject's checkout. */
  readonly worktree: string;
  readonly sha: string;
  /** The superproject's remote: relative submodule URLs resolve against it. */
  readonly remote: Remote;
  readonly depth: number;
}

/** A submodule to check out: where, at which commit, and from where. */
interface Planned extends Gitlink {
  readonly remote: Remote;
  readonly store: string;
}

/**
 * Makes `target.worktree` exactly `target.sha`: with `submodules`, every submodule at the commit its
 * gitlink names, recursively; without, their folders empty. `clean` has removed the last run's files.
 */
export async function checkoutCommit(git: GitClient, target: SubmoduleTarget, call: GitCallOptions, submodules: boolean, level = 0): Promise<void> {
  const planned = submodules ? await plan(git, target, call, level) : [];
  // Only a store that ever checked out a submodule can have left one's files: the common case costs a stat.
  if (existsSync(path.join(target.store, 'modules'))) await emptyDropped(git, target, new Set(planned.map((p) => p.path)), call);
  await git.checkout(target.store, target.worktree, target.sha, call);
  for (const sub of planned) {
    await git.ensureStore(sub.store, call);
    await git.fetch(sub.store, sub.remote, sub.sha, call, undefined, target.depth);
    const worktree = path.join(target.worktree, sub.path);
    // A store without an index never checked out here: what the folder holds came from another URL.
    const known = existsSync(path.join(sub.store, 'index'));
    const present = await ownFolder(target.worktree, sub.path, !known);
    if (present && known) await git.clean(sub.store, worktree, call);
    await checkoutCommit(git, { store: sub.store, worktree, sha: sub.sha, remote: sub.remote, depth: target.depth }, call, true, level + 1);
  }
}

/** The submodules of `target.sha` that have a URL, checked against the rules before git follows any. */
async function plan(git: GitClient, target: SubmoduleTarget, call: GitCallOptions, level: number): Promise<Planned[]> {
  const links = await gitlinks(git, target, call);
  if (links.length === 0) return [];
  if (level >= MAX_NESTING) throw new GitError('other', `submodules nest deeper than ${MAX_NESTING} levels`);
  const urls = await submoduleUrls(git, target, call);
  const planned: Planned[] = [];
  for (const link of links) {
    const where = `submodule '${link.path.slice(0, 200)}'`;
    const pathProblem = submodulePathProblem(link.path);
    if (pathProblem !== undefined) throw new GitError('invalid-name', `${where}: its path ${pathProblem}`);
    const configured = urls.get(link.path);
    // As `git submodule update` does: a gitlink without a URL in .gitmodules stays an empty folder.
    if (configured === undefined) continue;
    const parsed = parseRemote(resolveRelative(configured, target.remote.url), '/');
    if (!parsed.ok) throw new GitError('invalid-name', `${where}: ${parsed.error}`);
    const remote: Remote = {
      url: parsed.value.remote,
      // The superproject's credentials go only to its own host and protocol.
      credentials: parsed.value.credentials ?? (sameOrigin(parsed.value.remote, target.remote.url) ? target.remote.credentials : undefined),
      ssh: target.remote.ssh,
    };
    // Named by a hash: the folder name never comes from the repository's text.
    const id = createHash('sha256').update(`${link.path}\0${remote.url}`).digest('hex').slice(0, 24);
    planned.push({ ...link, remote, store: path.join(target.store, 'modules', `${id}.git`) });
  }
  return planned;
}

/**
 * Empties the folders of the submodules checked out last time (the gitlinks in the store's index) that
 * `keep` does not name. Read from gitwatch's store, never from the checkout's .git.
 */
async function emptyDropped(git: GitClient, target: SubmoduleTarget, keep: ReadonlySet<string>, call: GitCallOptions): Promise<void> {
  const out = await git.run([`--git-dir=${target.store}`, 'ls-files', '--stage', '-z'], `listing the index of ${target.store}`, call);
  for (const entry of out.split('\0')) {
    // `<mode> <object> <stage>\t<path>`
    const link = /^160000 [0-9a-f]+ \d\t(.+)$/s.exec(entry)?.[1];
    if (link === undefined || keep.has(link) || submodulePathProblem(link) !== undefined) continue;
    await ownFolder(target.worktree, link, true);
  }
}

/**
 * Whether `rel` under `root` is a folder, emptied when `empty` is true. A step may have put a symlink or a
 * file on the way: that is removed, never followed, and the folder counts as absent.
 */
async function ownFolder(root: string, rel: string, empty: boolean): Promise<boolean> {
  let at = root;
  for (const part of rel.split('/')) {
    at = path.join(at, part);
    const stats = await lstat(at).catch(() => undefined);
    if (stats === undefined) return false;
    if (!stats.isDirectory()) {
      await rm(at, { recursive: true, force: true });
      return false;
    }
  }
  if (empty) for (const name of await readdir(at)) await rm(path.join(at, name), { recursive: true, force: true });
  return true;
}

interface Gitlink {
  readonly path: string;
  readonly sha: string;
}

async function gitlinks(git: GitClient, target: SubmoduleTarget, call: GitCallOptions): Promise<Gitlink[]> {
  const out = await git.run([`--git-dir=${target.store}`, 'ls-tree', '-r', '-z', '--full-tree', target.sha], `listing ${target.sha.slice(0, 12)}`, call);
  const links: Gitlink[] = [];
  for (const entry of out.split('\0')) {
    // `<mode> <type> <object>\t<path>`
    const match = /^160000 commit ([0-9a-f]{40}(?:[0-9a-f]{24})?)\t(.+)$/s.exec(entry);
    if (match?.[1] !== undefined && match[2] !== undefined) links.push({ sha: match[1], path: match[2] });
  }
  return links;
}

/** `.gitmodules` of the commit: submodule path → URL as written. */
async function submoduleUrls(git: GitClient, target: SubmoduleTarget, call: GitCallOptions): Promise<Map<string, string>> {
  let out: string;
  try {
    // --no-includes: a repository's .gitmodules may not pull in files from the machine.
    out = await git.run(
      [`--git-dir=${target.store}`, 'config', '--no-includes', '-z', `--blob=${target.sha}:.gitmodules`, '--list'],
      `reading .gitmodules of ${target.sha.slice(0, 12)}`,
      call,
    );
  } catch (error) {
    if (error instanceof GitError && (error.kind === 'aborted' || error.kind === 'timeout')) throw error;
    return new Map();
  }
  const byName = new Map<string, { path?: string; url?: string }>();
  for (const item of out.split('\0')) {
    const newline = item.indexOf('\n');
    if (newline === -1) continue;
    const key = item.slice(0, newline);
    const match = /^submodule\.(.+)\.(path|url)$/s.exec(key);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const entry = byName.get(match[1]) ?? {};
    entry[match[2] as 'path' | 'url'] = item.slice(newline + 1);
    byName.set(match[1], entry);
  }
  const urls = new Map<string, string>();
  for (const entry of byName.values()) if (entry.path !== undefined && entry.url !== undefined) urls.set(entry.path.replace(/\/+$/, ''), entry.url);
  return urls;
}

/** undefined when `p` stays inside the checkout and names no git folder. */
export function submodulePathProblem(p: string): string | undefined {
  if (p.startsWith('/')) return 'is absolute';
  for (const part of p.split('/')) {
    if (part === '' || part === '.' || part === '..') return `has an empty, '.' or '..' part`;
    if (part.toLowerCase() === '.git') return `has a '.git' part`;
  }
  return undefined;
}

/**
 * git's rule for a submodule URL that starts with `./` or `../`: relative to the superproject's URL taken as
 * a folder, each `../` removing one part of it.
 */
export function resolveRelative(url: string, parent: string): string {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  let base = parent.replace(/\/+$/, '');
  let rest = url;
  for (;;) {
    if (rest.startsWith('./')) rest = rest.slice(2);
    else if (rest.startsWith('../')) {
      rest = rest.slice(3);
      base = parentOf(base);
    } else break;
  }
  return base.endsWith(':') ? `${base}${rest}` : `${base}/${rest}`;
}

function parentOf(url: string): string {
  const slash = url.lastIndexOf('/');
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(url)?.[0];
  // Never above the host of a URL: git would not go there either.
  if (scheme !== undefined && slash < scheme.length) return url;
  // `git@host:repo` has its path after the colon.
  const colon = scheme === undefined && !url.startsWith('/') ? url.indexOf(':') : -1;
  return url.slice(0, Math.max(slash, colon + 1, 0)).replace(/\/+$/, '');
}

function sameOrigin(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const ua = new URL(a);
  const ub = new URL(b);
  return ua.protocol === ub.protocol && ua.host === ub.host;
}
