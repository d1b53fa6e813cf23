// Where the state file and the workdir are, read from the config text without parsing the whole document:
// `status` against a daemon needs only the state path (to find the socket beside it), and parsing a config
// of a thousand repos costs half a second. Anything this scan is not sure of returns undefined, and the
// caller reads the YAML.

import { interpolate } from './interpolate.js';
import type { Env } from '../domain.js';

/** The top-level `key:` value as written, `null` when the key is absent, or undefined when unsure. */
export function scanTopValue(text: string, key: 'state' | 'workdir'): string | null | undefined {
  const lines = text.split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('%') && l !== '---');
  // Only a block mapping at the top: a flow mapping or an anchor could hide the key from a line scan.
  if (first === undefined || !/^[A-Za-z_][\w-]*:(\s|$)/.test(first)) return undefined;
  // More than one document marker: more than one document, which the full parse will reject.
  if (lines.filter((l) => l === '---' || l === '...').length > 1) return undefined;
  const start = new RegExp(`^${key}\\s*:`);
  const found = lines.filter((l) => start.test(l));
  if (found.length === 0) return null;
  if (found.length > 1) return undefined;
  const raw = (found[0] ?? '').replace(start, '');
  const m = /^\s*(?:"([^"\\]*)"|'([^']*)'|([^\s#'"&*!|>[{][^#]*?))\s*(?:#.*)?$/.exec(raw);
  const value = m?.[1] ?? m?.[2] ?? m?.[3];
  return value === undefined || value === '' ? undefined : value;
}

export function scanStateValue(text: string): string | null | undefined {
  return scanTopValue(text, 'state');
}

/** The state file's path relative to the config's folder, interpolated; undefined when unsure. */
export function quickStateValue(text: string, env: Env): string | null | undefined {
  const value = scanStateValue(text);
  if (value === null || value === undefined) return value;
  const r = interpolate(value, env);
  return r.ok ? r.value.value : undefined;
}
