// JSON Schema validation of the raw config, with ajv's errors turned into located, readable diagnostics.

import type { ErrorObject } from 'ajv';
import type { Diagnostic } from '../domain.js';
import type { KeyPath } from './diagnostics.js';
// Compiled from schema/gitwatch.schema.json at build time (scripts/build-validator.mjs): no ajv compiler at start-up.
import validate from './schema-validator.js';
import type { YamlSource } from './yaml-source.js';

/**
 * The schema's problems; `rules` are those of its `{ description, not }` rules, whose fixed message gives
 * way to the resolver's where both flag one place (the resolver knows the value after interpolation).
 */
export function schemaDiagnostics(data: unknown, source: YamlSource): { problems: Diagnostic[]; rules: Diagnostic[] } {
  if (validate(data)) return { problems: [], rules: [] };
  // A property name that fails propertyNames yields an inner error too; the outer one says it better.
  const errors = pruneAnyOf(
    (validate.errors ?? []).filter((e) => !e.schemaPath.includes('/propertyNames/')),
    data,
  );
  const seen = new Set<string>();
  const out = { problems: [] as Diagnostic[], rules: [] as Diagnostic[] };
  for (const err of errors) {
    const d = toDiagnostic(err, data, source);
    const key = `${d.line}:${d.col}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      (err.keyword === 'not' ? out.rules : out.problems).push(d);
    }
  }
  return out;
}

function toPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let v = data;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined || s.length <= 40 ? String(s) : `${s.slice(0, 37)}...`;
}

/**
 * Within an anyOf, the branches whose type does not match the value only add noise
 * ("must be string" for a step written as a map). Keep the errors of the branches of the right type;
 * when no branch has the right type, keep a single "expected X or Y" error.
 */
function pruneAnyOf(errors: readonly ErrorObject[], data: unknown): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  let kept = errors.filter((e) => e.keyword !== 'anyOf');
  for (const any of anyOfs) {
    const prefix = `${any.schemaPath.replace(/\/anyOf$/, '')}/anyOf/`;
    const inBranch = (e: ErrorObject): boolean => e.schemaPath.startsWith(prefix) && e.instancePath.startsWith(any.instancePath);
    const branchOf = (e: ErrorObject): string => e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
    const wrongType = new Set(kept.filter((e) => inBranch(e) && e.keyword === 'type' && e.instancePath === any.instancePath).map(branchOf));
    const branchErrors = kept.filter(inBranch);
    const rightType = branchErrors.filter((e) => !wrongType.has(branchOf(e)));
    // Errors deeper inside the value (reached through a $ref, so outside the branch's schema path) mean a
    // branch of the right type was taken: they explain the failure on their own.
    const deeper = kept.some((e) => !inBranch(e) && e.instancePath.startsWith(`${any.instancePath}/`));
    kept = kept.filter((e) => !inBranch(e));
    if (rightType.length > 0 || deeper) {
      // Of several map branches (a notify target by url or by command), the closest explains best.
      const counts = new Map<string, number>();
      for (const e of rightType) counts.set(branchOf(e), (counts.get(branchOf(e)) ?? 0) + 1);
      const fewest = Math.min(...counts.values());
      kept.push(...rightType.filter((e) => counts.get(branchOf(e)) === fewest));
    } else {
      const expected = [...new Set(branchErrors.filter((e) => e.keyword === 'type').map((e) => String(e.params['type'])))];
      const value = valueAt(data, toPath(any.instancePath));
      kept.push({ ...any, keyword: 'type', params: { type: expected.join(' or ') }, message: `found ${kindOf(value)}` });
    }
  }
  return kept;
}

function describeType(type: string): string {
  return type
    .split(/,| or /)
    .map((t) => t.trim())
    .map(
      (t) =>
        ({ object: 'a map', array: 'a list', string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', null: 'null' })[t] ?? t,
    )
    .join(' or ');
}

function isDuration(err: ErrorObject): boolean {
  return /\$defs\/(duration|interval|timeout|gitTimeout)\//.test(err.schemaPath);
}

function toDiagnostic(err: ErrorObject, data: unknown, source: YamlSource): Diagnostic {
  const path = toPath(err.instancePath);
  const value = valueAt(data, path);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(p['additionalProperty']);
      const known = Object.keys(propertiesAt(err.parentSchema));
      const hint = closest(key, known);
      const tail = hint ? `: did you mean '${hint}'?` : known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
      return source.diagnostic([...path, key], `unknown key '${key}'${tail}`, source.position([...path, key], true));
    }
    case 'required': {
      const key = String(p['missingProperty']);
      return source.diagnostic(path, `missing required key '${key}'`, source.position(path, path.length > 0));
    }
    case 'propertyNames': {
      const name = String(p['propertyName']);
      const at = source.position([...path, name], true);
      if (err.schemaPath.includes('/jobs/')) {
        return source.diagnostic(
          [...path, name],
          `invalid job name '${name}': use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters`,
          at,
        );
      }
      if (!err.schemaPath.startsWith('#/properties/repos/')) {
        return source.diagnostic([...path, name], `invalid environment variable name '${name}': use letters, digits and '_', not starting with a digit`, at);
      }
      const message =
        name === 'logs'
          ? `the repo name 'logs' is reserved (it is the run-log folder)`
          : `invalid repo name '${name}': use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters`;
      return source.diagnostic([...path, name], message, at);
    }
    case 'type': {
      if (isDuration(err)) return durationError(path, value, source);
      const found = kindOf(value);
      const hint = yamlSurprise(path, source, String(p['type']));
      return source.diagnostic(path, `expected ${describeType(String(p['type']))}, found ${found}${hint}`);
    }
    case 'pattern':
    case 'exclusiveMinimum':
      if (isDuration(err)) return durationError(path, value, source);
      return source.diagnostic(path, `invalid value ${show(value)}: ${err.message ?? ''}`);
    case 'not':
      return ruleDiagnostic(err, path, value, source);
    case 'const':
      return source.diagnostic(path, `${path.join('.')} must be ${show(p['allowedValue'])}, found ${show(value)}`);
    case 'minLength':
      return source.diagnostic(path, 'must not be empty');
    case 'minimum':
      return source.diagnostic(path, `must be at least ${String(p['limit'])}, found ${show(value)}`);
    case 'maximum':
      return source.diagnostic(path, `must be at most ${String(p['limit'])}, found ${show(value)}`);
    case 'minItems':
      return source.diagnostic(path, `needs at least ${String(p['limit'])} item${p['limit'] === 1 ? '' : 's'}`);
    case 'minProperties':
      return source.diagnostic(path, `needs at least ${String(p['limit'])} entr${p['limit'] === 1 ? 'y' : 'ies'}`);
    default:
      return source.diagnostic(path, err.message ?? `invalid value (${err.keyword})`);
  }
}

/**
 * A rule of the schema: `{ description, not }`, where the description is the message and `not` what the
 * rule forbids. A rule about keys (`not: { required: [...] }`) is reported at the last key it names; any
 * other at the value (a map's at its key).
 */
function ruleDiagnostic(err: ErrorObject, path: KeyPath, value: unknown, source: YamlSource): Diagnostic {
  const rule = err.parentSchema as { description?: unknown; not?: { required?: unknown } } | undefined;
  const message = typeof rule?.description === 'string' ? rule.description : 'is not allowed here';
  const required = Array.isArray(rule?.not?.required) ? (rule.not.required as unknown[]) : [];
  const key = required[required.length - 1];
  if (typeof key === 'string') return source.diagnostic([...path, key], message, source.position([...path, key], true));
  const isMap = typeof value === 'object' && value !== null && !Array.isArray(value);
  return source.diagnostic(path, message, source.position(path, isMap && path.length > 0));
}

function durationError(path: KeyPath, value: unknown, source: YamlSource): Diagnostic {
  return source.diagnostic(path, `expected a duration like "500ms", "30s", "5m" or "1h30m" (or a number of seconds), found ${show(value)}`);
}

/** YAML 1.2 reads `0123` and `yes` in surprising ways; say so when a string was expected. */
function yamlSurprise(path: KeyPath, source: YamlSource, expected: string): string {
  const node = source.node(path);
  const raw = node?.range ? source.text.slice(node.range[0], node.range[1]).trim() : '';
  if (expected.includes('boolean') && /^(yes|no|on|off|y|n)$/i.test(raw)) return ` (${raw}); write true or false`;
  if (expected.includes('string') && (/^[-+]?\.?\d/.test(raw) || /^(true|false|null|~)$/i.test(raw))) return ` (${raw}); quote it to make it a string`;
  return '';
}

function propertiesAt(schemaNode: unknown): Record<string, unknown> {
  const node = schemaNode as { properties?: Record<string, unknown> } | undefined;
  return node?.properties ?? {};
}

/** The known key nearest to `key`, when it is close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
