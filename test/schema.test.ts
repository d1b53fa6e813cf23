import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/parse.js';
import schema from '../schema/gitwatch.schema.json' with { type: 'json' };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('schema', () => {
  test('the committed TypeScript types match the schema (npm run gen:types)', async () => {
    const { generate, OUTPUT } = (await import(path.join(ROOT, 'scripts/schema-types.mjs'))) as { generate: () => Promise<string>; OUTPUT: string };
    assert.equal(await readFile(OUTPUT, 'utf8'), await generate(), 'src/config/schema-types.ts is stale: run npm run gen:types');
  });

  test('every key has a description, so editors show help', () => {
    const missing: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const [key, child] of Object.entries((n['properties'] ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof child['description'] !== 'string' && typeof child['$ref'] !== 'string') missing.push(`${where}.${key}`);
        visit(child, `${where}.${key}`);
      }
      for (const key of ['$defs', 'items', 'additionalProperties']) {
        const child = n[key];
        if (key === '$defs') for (const [name, def] of Object.entries(child ?? {})) visit(def, `$defs.${name}`);
        else visit(child, `${where}.${key}`);
      }
      for (const branch of (n['anyOf'] ?? []) as unknown[]) visit(branch, where);
    };
    visit(schema, '');
    assert.deepEqual(missing, []);
    for (const [name, def] of Object.entries(schema.$defs)) assert.equal(typeof (def as { description?: string }).description, 'string', name);
  });

  test('the example config is valid and starts with the yaml-language-server schema comment', async () => {
    const file = path.join(ROOT, 'examples/gitwatch.yaml');
    const text = await readFile(file, 'utf8');
    assert.match(text.split('\n')[0] ?? '', /^# yaml-language-server: \$schema=\.\.\/schema\/gitwatch\.schema\.json$/);
    const result = parseConfig(text, { file, absolutePath: file, env: {} });
    assert.equal(result.ok, true);
  });
});
