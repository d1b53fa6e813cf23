// A config problem located in its file, and how it prints: `FILE:LINE:COL: message (at key.path)`.

import type { Diagnostic } from '../domain.js';
import { escapeControls } from '../rules/safe-text.js';

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
  const head = `${d.file}:${d.line}:${d.col}: ${shorten(escapeControls(d.message), MAX_MESSAGE)}${where}`;
  const line = source?.split(/\r?\n/)[d.line - 1];
  if (line === undefined) return head;
  const { text, caret } = excerpt(line, d.col - 1);
  const gutter = String(d.line);
  const pointer = ' '.repeat(gutter.length) + ' | ' + text.slice(0, caret).replace(/[^\t]/g, ' ') + '^';
  return `${head}\n${gutter} | ${text}\n${pointer}`;
}

/** Widest excerpt shown: a minified or generated line stays one screen line, around the problem. */
const EXCERPT_WIDTH = 120;
const MAX_MESSAGE = 300;

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  return `${text.slice(0, Math.ceil(keep * 0.7))}…${text.slice(text.length - Math.floor(keep * 0.3))}`;
}

/** The line escaped and, when long, cut to a window around `col`; `caret` is where `col` lands in it. */
function excerpt(line: string, col: number): { text: string; caret: number } {
  const before = escapeControls(line.slice(0, Math.max(0, col)));
  const after = escapeControls(line.slice(Math.max(0, col)));
  const full = before + after;
  if (full.length <= EXCERPT_WIDTH) return { text: full, caret: before.length };
  const start = Math.max(0, Math.min(before.length - EXCERPT_WIDTH / 3, full.length - EXCERPT_WIDTH));
  const from = Math.floor(start);
  const to = Math.min(full.length, from + EXCERPT_WIDTH);
  const head = from > 0 ? '…' : '';
  const tail = to < full.length ? '…' : '';
  return { text: head + full.slice(from, to) + tail, caret: head.length + before.length - from };
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
