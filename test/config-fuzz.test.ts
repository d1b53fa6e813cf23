import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/parse.js';

const VALID = {
  version: 1,
  defaults: { interval: '30s', timeout: '5m', env: { TZ: 'UTC' } },
  repos: {
    site: { url: 'https://example.com/site.git', branch: 'main', pipeline: ['make', { name: 'build', run: 'npm run build', cwd: 'web', timeout: 60 }] },
    docs: { url: '../docs', interval: '1h30m', env: { A: 'b' }, pipeline: ['true'] },
  },
};
const VALID_TEXT = stringify(VALID);

/** Parses, checking it does not throw, finishes quickly, and places every problem inside the text. */
function check(text: string): void {
  const started = Date.now();
  const result = parseConfig(text, { file: 'gitwatch.yaml', absolutePath: '/srv/gitwatch.yaml', env: { HOME: '/root' } });
  assert.ok(Date.now() - started < 2000, 'parsing took over 2 s');
  if (result.ok) return;
  assert.ok(result.error.length > 0);
  const lines = text.split(/\r\n|\n|\r/);
  for (const d of result.error) {
    assert.ok(d.line >= 1 && d.line <= Math.max(1, lines.length), `line ${d.line} outside the file: ${d.message}`);
    assert.ok(d.col >= 1 && d.col <= (lines[d.line - 1]?.length ?? 0) + 1, `column ${d.col} outside line ${d.line}: ${d.message}`);
    assert.ok(d.message.length > 0);
  }
}

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setAt(root: unknown, path: Path, value: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? undefined : value;
  const copy = (Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path as [string | number, ...Path];
  if (rest.length === 0 && remove) delete copy[head];
  else copy[head] = setAt(copy[head], rest, value, remove);
  return copy;
}

const ALL_PATHS = paths(VALID);

describe('config parser under random input', () => {
  test('random text never throws and every problem has a position inside the file', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => check(text)),
      { numRuns: 400 },
    );
  });

  test('random YAML-ish text', () => {
    const token = fc.constantFrom(
      'version: 1\n',
      'repos:\n',
      '  site:\n',
      '    url: x\n',
      '    pipeline: [a]\n',
      '- ',
      ': ',
      '{',
      '}',
      '[',
      ']',
      '&a ',
      '*a',
      '!!str ',
      '"',
      "'",
      '\t',
      '\n',
      ' ',
      '#',
      '${X}',
      '0123',
      'yes',
      '~',
      '---\n',
      '...\n',
      '? ',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => check(parts.join(''))),
      { numRuns: 400 },
    );
  });

  test('a valid config with one value replaced or removed never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_PATHS), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), (path, value, remove) => {
        check(stringify(setAt(VALID, path, value, remove)) ?? '');
      }),
      { numRuns: 400 },
    );
  });

  test('a valid config with characters inserted or deleted never throws', () => {
    fc.assert(
      fc.property(fc.nat(VALID_TEXT.length), fc.nat(8), fc.string({ maxLength: 6 }), (at, cut, insert) => {
        check(VALID_TEXT.slice(0, at) + insert + VALID_TEXT.slice(at + cut));
      }),
      { numRuns: 400 },
    );
  });
});
