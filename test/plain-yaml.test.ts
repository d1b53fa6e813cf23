// The plain shape of YAML read without the library must give the library's data, or decline.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { readPlainYaml } from '../src/config/plain-yaml.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The library's data, when it reads the text without an error and with plain keys only. */
function library(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  return doc.errors.length > 0 ? undefined : { value: doc.toJS({ maxAliasCount: 1000 }) };
}

function agrees(text: string): boolean {
  const fast = readPlainYaml(text);
  if (fast === undefined) return false;
  assert.deepEqual(fast, library(text), text);
  return true;
}

test('configs as people and the bench write them are read here, as the library reads them', async () => {
  const repos = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [`r${i}`, { url: `http://bench:bench-token@127.0.0.1:8080/repo-${i}.git`, pipeline: ['true'] }]),
  );
  assert.ok(agrees(stringify({ version: 1, repos })), 'the bench config was declined');
  const written = [
    'version: 1',
    '# a comment',
    'defaults:',
    '  interval: 30s   # every half minute',
    '  git_timeout: 60',
    'repos:',
    '  site:',
    '    url: https://example.com/org/site.git',
    "    branch: 'main'",
    '    env:',
    '      NODE_ENV: production',
    '    pipeline:',
    '    - npm ci',
    '    - "npm run build"',
    '  api:',
    '    url: git@example.com:org/api.git',
    '    enabled: false',
    '    jobs:',
    '      - name: test',
    '        run: make test',
    '      -   name: deploy',
    '          needs:',
    '            - test',
    '          run: ./deploy.sh',
    '',
  ].join('\n');
  assert.ok(agrees(written), 'a hand-written config was declined');
  const example = await readFile(path.join(ROOT, 'examples/gitwatch.yaml'), 'utf8');
  const fast = readPlainYaml(example);
  if (fast !== undefined) assert.deepEqual(fast, library(example));
});

test('whatever is read here is what the library reads', () => {
  const key = fc.constantFrom('a', 'b', 'repos', 'x.y', 'a-b', 'on', 'y', 'true', 'Null', 'constructor', '__proto__', '1', "'q'", '"q"', '? a', 'a b');
  const value = fc.constantFrom(
    ...['30s', '1', '007', '123456789012345678', '1.5', '0x1f', '0o7', '1e3', '.5', '-5', '+5', '.inf', '.NaN', '1_0', 'true', 'True', 'FALSE', 'yes'],
    ...['~', 'null', 'NULL', "'it''s'", "''", '"a#b"', '"a\\n"', '"x" #c', '"x"y', 'a #c', 'a#b', 'a: b', 'a:', 'a:b', '-x', '- x', '[a]', '{}'],
    ...['&a x', '*a', '!t x', '|', '>', "'unclosed", '"unclosed', 'http://x:1/y', 'echo "hi" > f', '#c', '%x', '@x', '`x`', 'a , b', '?x', ': x'],
  );
  const line = fc.oneof(
    fc.tuple(key, fc.constantFrom(': ', ':', ':  ', ': #c '), value).map(([k, sep, v]) => `${k}${sep}${sep === ':' ? '' : v}`),
    fc.tuple(fc.constantFrom('- ', '-', '-   '), value).map(([d, v]) => `${d}${d === '-' ? '' : v}`),
    fc.tuple(fc.constantFrom('- ', '-  '), key, value).map(([d, k, v]) => `${d}${k}: ${v}`),
    fc.constantFrom('# comment', '', '---', '...', '%YAML 1.2', '  '),
  );
  const doc = fc.array(fc.tuple(fc.constantFrom(0, 0, 2, 2, 4, 4, 6, 1, 3), line), { minLength: 1, maxLength: 10 });
  let read = 0;
  fc.assert(
    fc.property(doc, (lines) => {
      if (agrees(lines.map(([indent, text]) => `${' '.repeat(indent)}${text}`).join('\n'))) read++;
    }),
    { numRuns: 20_000 },
  );
  // The property means little unless many documents are read here.
  assert.ok(read > 500, `only ${read} documents were read here`);
});
