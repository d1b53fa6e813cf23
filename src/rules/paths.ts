// `paths`: which changed files count, gitignore-style. Patterns are anchored at the repo root, `*` stays
// within a folder and `**` crosses folders, a pattern that names a folder covers what is inside it, `!`
// excludes, and the last pattern that matches a file decides. A list of only `!` patterns starts from
// "every file", so it means "everything except".

import picomatch from 'picomatch';

export interface PathFilter {
  /** The first changed file that counts, if any. */
  firstMatch(files: readonly string[]): string | undefined;
}

export function pathFilter(patterns: readonly string[]): PathFilter {
  const rules = patterns.map((pattern) => {
    const exclude = pattern.startsWith('!');
    const body = (exclude ? pattern.slice(1) : pattern).replace(/^\/+/, '').replace(/\/+$/, '');
    return { exclude, matches: picomatch(body, { dot: true }) };
  });
  const everything = rules.every((r) => r.exclude);
  const counts = (file: string): boolean => {
    // A file counts when a pattern matches it or one of its folders.
    const parts = file.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let matched = everything;
    for (const rule of rules) if (candidates.some((c) => rule.matches(c))) matched = !rule.exclude;
    return matched;
  };
  return { firstMatch: (files) => files.find(counts) };
}
