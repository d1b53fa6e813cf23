// A parsed YAML document that can say where any key path sits in the text.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic, KeyPath } from './diagnostics.js';
import { formatKeyPath } from './diagnostics.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

export class YamlSource {
  readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
  }

  /** YAML syntax errors and duplicate keys. */
  syntaxErrors(): Diagnostic[] {
    return this.doc.errors.map((err) => {
      const pos = this.positionOfOffset(err.pos[0]);
      const message = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.message;
      return { file: this.file, ...pos, message: lowerFirst(message), path: '' };
    });
  }

  positionOfOffset(offset: number): Position {
    const pos = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: pos.line, col: pos.col };
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
