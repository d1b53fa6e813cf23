// A remote's refs as one listing: what `git ls-remote --symref` prints, whoever produced it (git itself, the
// local files, or the smart-HTTP ref advertisement read in-process). Names in it come from the remote: they
// are compared and reported, never passed back to git or a shell.

import { isSha } from '../domain.js';

export interface RefListing {
  /** Where HEAD points (`refs/heads/main`), when HEAD was asked for and is a symbolic ref. */
  readonly head: string | undefined;
  /** Ref name → SHA; `HEAD` too when asked for and it resolves to a commit. */
  readonly refs: ReadonlyMap<string, string>;
  /** Annotated tag name (`refs/tags/v1`) → the commit it points to. */
  readonly peeled: ReadonlyMap<string, string>;
}

/**
 * Which refs a listing holds: a name is kept when it starts with one of the patterns (protocol v2's
 * `ref-prefix`). `HEAD` asks for HEAD and its symref, `refs/heads/main` for that branch, `refs/tags/` for
 * every tag.
 */
export type RefPatterns = readonly string[];

export function matches(patterns: RefPatterns, name: string): boolean {
  return patterns.some((p) => name.startsWith(p));
}

export class RefListingBuilder {
  head: string | undefined;
  readonly refs = new Map<string, string>();
  readonly peeled = new Map<string, string>();

  constructor(private readonly patterns: RefPatterns) {}

  /** Adds one advertised ref; a `^{}` name is the peeled commit of the tag before it. */
  add(name: string, sha: string): void {
    if (!isSha(sha)) return;
    if (name.endsWith('^{}')) {
      const tag = name.slice(0, -3);
      if (matches(this.patterns, tag)) this.peeled.set(tag, sha);
      return;
    }
    if (matches(this.patterns, name)) this.refs.set(name, sha);
  }

  symref(name: string, target: string): void {
    if (name === 'HEAD' && matches(this.patterns, 'HEAD')) this.head = target;
  }

  build(): RefListing {
    return { head: this.head, refs: this.refs, peeled: this.peeled };
  }
}

/** `git ls-remote --symref` output as a listing. */
export function parseLsRemote(out: string, patterns: RefPatterns): RefListing {
  const listing = new RefListingBuilder(patterns);
  for (const line of out.split('\n')) {
    const [left, name] = line.split('\t');
    if (left === undefined || name === undefined) continue;
    if (left.startsWith('ref: ')) listing.symref(name, left.slice('ref: '.length));
    else listing.add(name, left);
  }
  return listing.build();
}

/**
 * What git ls-remote is given for the patterns. It matches whole names at their end, so each prefix becomes
 * a glob; the listing then keeps only the names that start with a pattern. Validated branch names hold no
 * glob characters.
 */
export function lsRemotePatterns(patterns: RefPatterns): string[] {
  return patterns.map((p) => `${p}*`);
}
