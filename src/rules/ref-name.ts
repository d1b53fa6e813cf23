// git's rules for branch names (git-check-ref-format), applied without starting git.

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0020\u007f~^:?*[\\]/;

/** undefined when `name` is a valid branch name, else why it is not. */
export function branchNameProblem(name: string): string | undefined {
  if (name.length > 255) return 'is longer than 255 characters';
  if (name.startsWith('-')) return `may not start with '-' (git would read it as an option)`;
  if (name.startsWith('refs/')) return `is a branch name, without 'refs/heads/'`;
  if (FORBIDDEN.test(name)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name === '@') return `may not be '@'`;
  if (name.includes('..')) return `may not contain '..'`;
  if (name.includes('@{')) return `may not contain '@{'`;
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return `may not start or end with '/' or contain '//'`;
  if (name.endsWith('.')) return `may not end with '.'`;
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `has a part that starts with '.'`;
    if (part.endsWith('.lock')) return `has a part that ends with '.lock'`;
  }
  return undefined;
}
