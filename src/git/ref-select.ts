// Which of a remote's refs a repo follows: the highest tag matching a glob (and a semver range), or every
// branch matching a glob. Pure functions over the list `git ls-remote` prints, so any ref reader can feed them.
// Names come from the remote: a name git would not accept as a ref is left out, never passed on.

import semver from 'semver';
import { isSha } from '../domain.js';
import { branchNameProblem } from '../rules/ref-name.js';
import { globMatcher as matcher } from '../rules/ref-pattern.js';

/** A remote's refs as `git ls-remote` lists them. */
export interface RefList {
  /** Full ref name → the object it points at (for an annotated tag, the tag object). */
  readonly refs: ReadonlyMap<string, string>;
  /** Annotated tags: full ref name → the commit it peels to (the `^{}` lines). */
  readonly peeled: ReadonlyMap<string, string>;
  /** What HEAD points at (`refs/heads/main`), when the remote said. */
  readonly head: string | undefined;
}

export function parseRefList(out: string): RefList {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let head: string | undefined;
  for (const line of out.split('\n')) {
    const [left, name] = line.split('\t');
    if (left === undefined || name === undefined) continue;
    if (left.startsWith('ref: ') && name === 'HEAD') head = left.slice('ref: '.length);
    else if (!isSha(left)) continue;
    else if (name.endsWith('^{}')) peeled.set(name.slice(0, -'^{}'.length), left);
    else refs.set(name, left);
  }
  return { refs, peeled, head };
}

/** The commit `ref` stands for: an annotated tag's peeled commit, else what the ref points at. */
export function commitOf(list: RefList, ref: string): string | undefined {
  return list.peeled.get(ref) ?? list.refs.get(ref);
}

/** A tag chosen to follow, and every tag that matched (to tell a vanished tag from an older one). */
export interface TagChoice {
  readonly tag: string;
  readonly sha: string;
  readonly matching: readonly string[];
}

/** Tags that match `glob` (and satisfy `range`), by name, with their commits. */
export function matchingTags(list: RefList, glob: string, range?: string): Map<string, string> {
  const match = matcher(glob);
  const out = new Map<string, string>();
  for (const ref of list.refs.keys()) {
    if (!ref.startsWith('refs/tags/')) continue;
    const name = ref.slice('refs/tags/'.length);
    if (branchNameProblem(name) !== undefined || !match(name)) continue;
    if (range !== undefined && !satisfies(name, range)) continue;
    const sha = commitOf(list, ref);
    if (sha !== undefined) out.set(name, sha);
  }
  return out;
}

/** The highest tag matching `glob` (and `range`), or undefined when none does. */
export function selectTag(list: RefList, glob: string, range?: string): TagChoice | undefined {
  const tags = matchingTags(list, glob, range);
  const names = [...tags.keys()].sort(compareTags);
  const tag = names.at(-1);
  const sha = tag === undefined ? undefined : tags.get(tag);
  return tag === undefined || sha === undefined ? undefined : { tag, sha, matching: names };
}

function satisfies(name: string, range: string): boolean {
  const version = semver.parse(name);
  return version !== null && semver.satisfies(version, range);
}

/**
 * Tag order: names that parse as versions (`v1.2.3`, `1.2.3-rc.1`) by version, above every name that does
 * not; those by name. Equal versions (`v1.0.0`, `1.0.0`) by name, so the order is total.
 */
export function compareTags(a: string, b: string): number {
  const va = semver.parse(a);
  const vb = semver.parse(b);
  if (va !== null && vb !== null) return semver.compareBuild(va, vb) || byName(a, b);
  if (va !== null) return 1;
  if (vb !== null) return -1;
  return byName(a, b);
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Branches matching `glob`, in name order, with their commits. */
export function selectBranches(list: RefList, glob: string): { branch: string; sha: string }[] {
  const match = matcher(glob);
  const out: { branch: string; sha: string }[] = [];
  for (const [ref, sha] of list.refs) {
    if (!ref.startsWith('refs/heads/')) continue;
    const branch = ref.slice('refs/heads/'.length);
    if (branchNameProblem(branch) === undefined && match(branch)) out.push({ branch, sha });
  }
  return out.sort((a, b) => byName(a.branch, b.branch));
}
