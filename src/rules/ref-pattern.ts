// Globs over ref names (`v*`, `release/*`) and semver ranges, checked as config values before any git runs.

import picomatch from 'picomatch';
import semver from 'semver';
import { branchNameProblem } from './ref-name.js';

const GLOB_CHARS = /[*?[]/;

/** The value is a glob (`release/*`, `v*`), not a plain name. */
export function isGlob(value: string): boolean {
  return GLOB_CHARS.test(value);
}

/**
 * undefined when `glob` is a pattern whose matches can be valid ref names: `*`, `?` and `[...]` classes
 * stand for name characters, and what is left must pass git's ref name rules.
 */
export function globProblem(glob: string): string | undefined {
  if (glob.startsWith('-')) return `may not start with '-' (git would read it as an option)`;
  const filled = glob.replace(/\[!?\]?[^\]]*\]/g, 'x').replace(/\*\*\/|\*\*|\*|\?/g, 'x');
  if (filled.includes('[') || filled.includes(']')) return `has a '[' without its ']'`;
  return branchNameProblem(filled);
}

/** A semver range gitwatch can use, or why not. */
export function rangeProblem(range: string): string | undefined {
  return semver.validRange(range) === null ? `'${range.slice(0, 80)}' is not a valid semver range` : undefined;
}

/** Matches a ref's short name (`release/1.0`, `v1.2.0`) against a glob: `*` and `?` within one part, `**` across parts. */
export function globMatcher(glob: string): (name: string) => boolean {
  // Braces and extglobs are plain characters in ref names; only *, ?, ** and [...] are special.
  return picomatch(glob, { nobrace: true, noextglob: true, dot: true });
}
