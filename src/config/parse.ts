// The pure core of config loading: text in, a resolved config or every problem out. No file I/O.

import { sortDiagnostics } from './diagnostics.js';
import { readPlainYaml } from './plain-yaml.js';
import type { RawConfig } from './raw.js';
import { resolveConfig } from './resolve.js';
import { schemaDiagnostics } from './schema.js';
import { err, ok, type Diagnostic, type Env, type Result } from '../domain.js';
import type { ResolvedConfig } from './types.js';
import { YamlSource } from './yaml-source.js';

export type ParseResult = Result<ResolvedConfig, readonly Diagnostic[]>;

export interface ParseOptions {
  /** The config path as shown in messages. */
  readonly file: string;
  /** The config path made absolute (symlinks not resolved): relative paths in it resolve against its folder. */
  readonly absolutePath: string;
  readonly env: Env;
}

export function parseConfig(text: string, options: ParseOptions): ParseResult {
  const source = new YamlSource(options.file, text);
  // The plain shape is read without the YAML library, whose document is then parsed only for a problem's position.
  let data = readPlainYaml(text)?.value;
  if (data === undefined) {
    const syntax = source.syntaxErrors();
    if (syntax.length > 0) return err(sortDiagnostics(syntax));
    try {
      data = source.doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      return err([source.diagnostic([], `cannot read the document: ${(error as Error).message}`)]);
    }
  }
  if (data === null || data === undefined) {
    return err([source.diagnostic([], 'the file is empty: it needs at least `version: 1` and `repos:`')]);
  }
  const invalid = schemaDiagnostics(data, source);
  // Resolution checks what the schema cannot (URLs, branch names, layout); it reads defensively, so the
  // user sees those problems too, along with the schema's, in one pass.
  const resolved = resolveConfig(data as RawConfig, source, options.absolutePath, options.env);
  // Where two flag one place, the first is kept: the schema's own messages, then the resolver's, then the
  // schema's rules, whose fixed text says less than the resolver's (`the 'ftp://' transport`, `found 500ms`).
  const problems = [...invalid.problems, ...(resolved.ok ? [] : resolved.error), ...invalid.rules];
  if (problems.length > 0 || !resolved.ok) return err(sortDiagnostics(dedupe(problems)));
  return ok(resolved.value);
}

function dedupe(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    // Two missing keys of one map sit at the same place: each is its own problem.
    const missing = /^missing required key '[^']*'/.exec(d.message)?.[0] ?? '';
    const key = `${d.line}:${d.col}:${d.path}:${missing}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
