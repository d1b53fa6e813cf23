// Generates src/config/schema-types.ts from schema/gitwatch.schema.json (`npm run gen:types`).
// test/schema.test.ts fails when the committed file and the schema drift apart.

import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SCHEMA = `${root}schema/gitwatch.schema.json`;
export const OUTPUT = `${root}src/config/schema-types.ts`;

const BANNER = `// Generated from schema/gitwatch.schema.json by \`npm run gen:types\`. Do not edit by hand.
/* eslint-disable */`;

export async function generate() {
  const schema = withoutRules(JSON.parse(await readFile(SCHEMA, 'utf8')));
  return compile(schema, 'GitwatchConfig', { bannerComment: BANNER, format: false, additionalProperties: false, unreachableDefinitions: false });
}

/**
 * The schema's rules narrow values, not shapes: `{ description, not }` (a message and what it forbids),
 * in an `allOf`, or a `$defs` entry made only of such rules. Types have no use for them (and
 * json-schema-to-typescript turns them into `unknown` intersections), so they are left out here.
 */
function withoutRules(schema) {
  const defs = schema.$defs ?? {};
  const isRule = (node) =>
    node !== null &&
    typeof node === 'object' &&
    Object.keys(node).every((k) => ['description', 'not', 'allOf', '$ref'].includes(k)) &&
    ('not' in node || Array.isArray(node.allOf) || typeof node.$ref === 'string') &&
    (node.$ref === undefined || isRuleRef(node.$ref)) &&
    (node.allOf === undefined || node.allOf.every(isRule));
  const isRuleRef = (ref) => ref.startsWith('#/$defs/') && isRule(defs[ref.slice('#/$defs/'.length)]);
  const strip = (node) => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'allOf' && Array.isArray(value)) {
        const kept = value.filter((item) => !isRule(item));
        if (kept.length > 0) out.allOf = strip(kept);
      } else if (key === '$ref' && isRuleRef(value)) {
        continue;
      } else if (key === '$defs') {
        out.$defs = Object.fromEntries(
          Object.entries(value)
            .filter(([, def]) => !isRule(def))
            .map(([name, def]) => [name, strip(def)]),
        );
      } else {
        out[key] = strip(value);
      }
    }
    return out;
  };
  return strip(schema);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(OUTPUT, await generate());
  console.log(`wrote ${OUTPUT}`);
}
