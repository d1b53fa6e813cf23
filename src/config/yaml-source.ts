// A parsed YAML document that can say where any key path sits in the text.

import { isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Diagnostic } from '../domain.js';
import type { KeyPath } from './diagnostics.js';
import { formatKeyPath } from './diagnostics.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Parsed on first use. */
export class YamlSource {
  private parsed: Document | undefined;
  /** Offsets where lines start; computed from the text, since the parser's own counter skips lines inside broken tokens. */
  private starts: number[] | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  get doc(): Document {
    this.parsed ??= parseDocument(this.text, { uniqueKeys: true, prettyErrors: false });
    return this.parsed;
  }

  private get lineStarts(): number[] {
    if (this.starts === undefined) {
      this.starts = [0];
      for (const m of this.text.matchAll(/\r\n|\n|\r/g)) this.starts.push(m.index + m[0].length);
    }
    return this.starts;
  }

  /** YAML syntax errors, duplicate keys, and keys that are not plain scalars. */
  syntaxErrors(): Diagnostic[] {
    const found = this.doc.errors.map((err) => {
      const pos = this.positionOfOffset(err.pos[0]);
      const message = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.message;
      return { file: this.file, ...pos, message: lowerFirst(message) + hintFor(err.code), path: '' };
    });
    if (found.length > 0) return found;
    visit(this.doc, {
      Pair: (_key, pair) => {
        if (pair.key !== null && !isScalar(pair.key)) {
          const range = (pair.key as Node).range;
          found.push({ file: this.file, ...this.positionOfOffset(range?.[0] ?? 0), message: 'a key must be a plain value, not a list or a map', path: '' });
        }
      },
    });
    return found;
  }

  positionOfOffset(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= at) lo = mid;
      else hi = mid - 1;
    }
    // An offset at the very end of a file that ends with a newline belongs to the last line, not a new one.
    if (lo > 0 && lo === this.lineStarts.length - 1 && at === this.text.length && (this.lineStarts[lo] ?? 0) === at) lo--;
    const start = this.lineStarts[lo] ?? 0;
    const lineText = this.text.slice(start, this.lineStarts[lo + 1] ?? this.text.length).replace(/\r?\n$|\r$/, '');
    return { line: lo + 1, col: Math.min(at - start, lineText.length) + 1 };
  }

  /** The node at `path`, or its nearest existing ancestor. */
  node(path: KeyPath): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      if (!isMap(node) && !isSeq(node)) break;
      const next: unknown = node.get(key, true);
      if (next === undefined) break;
      node = next;
    }
    return node as Node | undefined;
  }

  /** Where the value at `path` starts; with `atKey`, where its key starts (for unknown and badly named keys). */
  position(path: KeyPath, atKey = false): Position {
    if (atKey && path.length > 0) {
      const parent = this.node(path.slice(0, -1));
      const last = path[path.length - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        const range = isScalar(pair?.key) ? pair.key.range : undefined;
        if (range) return this.positionOfOffset(range[0]);
      }
    }
    const range = this.node(path)?.range;
    return range ? this.positionOfOffset(range[0]) : { line: 1, col: 1 };
  }

  /** Offset of character `index` of the scalar at `path`, for errors inside a string. */
  positionInScalar(path: KeyPath, index: number): Position {
    const node = this.node(path);
    if (!isScalar(node) || !node.range) return this.position(path);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const singleLine = !this.text.slice(node.range[0], node.range[1]).includes('\n');
    const shift = singleLine && (quoted || node.type === 'PLAIN') ? index + (quoted ? 1 : 0) : 0;
    return this.positionOfOffset(node.range[0] + shift);
  }

  diagnostic(path: KeyPath, message: string, at?: Position): Diagnostic {
    return { file: this.file, ...(at ?? this.position(path)), message, path: formatKeyPath(path) };
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** What YAML's own words do not say: how to fix the usual cause. */
function hintFor(code: string): string {
  // `run: echo a: b`: the second `: ` starts a map inside the value.
  if (code === 'BLOCK_AS_IMPLICIT_KEY' || code === 'NESTED_MAPPING' || code === 'MULTILINE_IMPLICIT_KEY') {
    return ` (a value holding ': ' must be quoted: run: "echo a: b")`;
  }
  return '';
}
