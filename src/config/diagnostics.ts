// A config problem located in its file, and how it prints: `FILE:LINE:COL: message (at key.path)`.

export type KeyPath = readonly (string | number)[];

export interface Diagnostic {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  readonly message: string;
  readonly path: string;
}

/** `repos.site.pipeline[1].run`: the spelling used in every message. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const where = d.path === '' ? '' : ` (at ${d.path})`;
  const head = `${d.file}:${d.line}:${d.col}: ${d.message}${where}`;
  const line = source?.split(/\r?\n/)[d.line - 1];
  if (line === undefined) return head;
  const gutter = String(d.line);
  const caret = ' '.repeat(gutter.length) + ' | ' + line.slice(0, d.col - 1).replace(/[^\t]/g, ' ') + '^';
  return `${head}\n${gutter} | ${line}\n${caret}`;
}

export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
}
