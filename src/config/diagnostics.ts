// A config problem located in its file, and how it prints: `FILE:LINE:COL: message (at key.path)`.

import type { Diagnostic } from '../domain.js';

export type KeyPath = readonly (string | number)[];

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

/** Every problem with its excerpt, then a count: what `validate`, a failed start and a rejected reload print. */
export function formatDiagnostics(list: readonly Diagnostic[], source: string): string {
  const n = list.length;
  const file = list[0]?.file ?? 'config';
  const body = list.map((d) => formatDiagnostic(d, source)).join('\n\n');
  return `${body}\n\n${file}: ${n} problem${n === 1 ? '' : 's'}`;
}
