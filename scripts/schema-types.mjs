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
  const schema = JSON.parse(await readFile(SCHEMA, 'utf8'));
  return compile(schema, 'GitwatchConfig', { bannerComment: BANNER, format: false, additionalProperties: false, unreachableDefinitions: false });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(OUTPUT, await generate());
  console.log(`wrote ${OUTPUT}`);
}
