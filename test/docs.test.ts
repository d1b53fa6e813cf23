// Keeps the docs true: the configuration reference is the schema's, every config in the docs passes
// `gitwatch validate`, every `gitwatch <command>` exists, and every internal link and anchor resolves.
//
// A ```yaml block is a whole gitwatch.yaml unless its first line says otherwise:
//   # fragment: repo          keys of one repo; checked inside a minimal config
//   # fragment: top           top-level keys; checked with a minimal repo added
//   # not gitwatch.yaml ...   another tool's file (fleet.yml, Prometheus, Kubernetes); not checked
// Links to the pages other work brings (PENDING) may be missing; GITWATCH_TEST_REQUIRE_DOCS_PAGES=1 makes
// a missing one fail too.

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { runCli } from './helpers/cli.js';
import { blocks, commandsIn, docFiles, linkProblem, links, shellOf, slug, anchors, type Block } from './helpers/docs.js';
import { tempDir, testEnv } from './helpers/temp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PENDING = new Set(['rollback.md', 'status-page.md', 'sharding.md']);
const REQUIRE_PENDING = process.env['GITWATCH_TEST_REQUIRE_DOCS_PAGES'] === '1';

interface Reference {
  generate: () => Promise<string>;
  OUTPUT: string;
  SCHEMA: string;
}

async function reference(): Promise<Reference> {
  return (await import(path.join(ROOT, 'scripts/config-reference.mjs'))) as Reference;
}

/** The config a ```yaml block stands for, or undefined for another tool's file. */
export function configOf(block: Block): string | undefined {
  const first = block.text.split('\n', 1)[0]?.trim() ?? '';
  if (first.startsWith('# not gitwatch.yaml')) return undefined;
  const marker = /^# fragment: (repo|top)\b/.exec(first);
  if (!marker) return block.text;
  const fragment = (YAML.parse(block.text) ?? {}) as Record<string, unknown>;
  const repo: Record<string, unknown> = { url: '.', pipeline: ['true'] };
  if (marker[1] === 'repo') {
    Object.assign(repo, fragment);
    if ('jobs' in fragment) delete repo['pipeline'];
    return YAML.stringify({ version: 1, repos: { example: repo } });
  }
  return YAML.stringify({ version: 1, repos: { example: repo }, ...fragment });
}

/** Every `${NAME}` a config uses, set to a stand-in (a URL where it is a whole `url`), so `validate` checks the rest. */
function variablesOf(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) env[m[1] ?? ''] = 'docs-test-value';
  for (const m of text.matchAll(/\burl: *['"]?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[m[1] ?? ''] = 'https://hooks.example.invalid/docs';
  return env;
}

async function allBlocks(): Promise<Block[]> {
  const out: Block[] = [];
  for (const file of await docFiles(ROOT)) out.push(...blocks(file, await readFile(file, 'utf8')));
  return out;
}

async function validateBlock(t: TestContext, block: Block, dir: string): Promise<string | undefined> {
  const config = configOf(block);
  if (config === undefined) return undefined;
  const folder = path.join(dir, `${path.basename(block.file, '.md')}-${block.line}`);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'gitwatch.yaml'), config);
  await writeStandInKeys(folder, config);
  const result = await runCli(['validate', '-c', 'gitwatch.yaml'], { cwd: folder, env: testEnv(folder, variablesOf(config)) });
  t.diagnostic(`${path.relative(ROOT, block.file)}:${block.line}: exit ${result.code}`);
  if (result.code === 0) return undefined;
  return `${path.relative(ROOT, block.file)}:${block.line}: gitwatch validate exited ${result.code}\n${result.stdout}${result.stderr}`;
}

/**
 * The key files a config's `verify:` names, made as stand-ins (validate reads them): an OpenPGP public-key
 * packet of no use to gpg, or an allowed-signers line. A path with a `${VAR}` in it, or outside the folder, is
 * left to fail.
 */
async function writeStandInKeys(folder: string, config: string): Promise<void> {
  const doc = (YAML.parse(config) ?? {}) as { defaults?: { verify?: unknown }; repos?: Record<string, { verify?: unknown }> };
  const all = [doc.defaults?.verify, ...Object.values(doc.repos ?? {}).map((r) => r?.verify)];
  for (const verify of all as ({ gpg_keys?: unknown; ssh_allowed_signers?: unknown } | undefined)[]) {
    const files: [unknown, string | Buffer][] = [
      ...(Array.isArray(verify?.gpg_keys) ? verify.gpg_keys : []).map((f): [unknown, Buffer] => [f, Buffer.from([0xc6, 0x01, 0x04])]),
      [verify?.ssh_allowed_signers, 'deploy@example.invalid ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFN0YW5kLWluIGtleSBmb3IgdGhlIGRvY3MgdGVzdA==\n'],
    ];
    for (const [file, content] of files) {
      // Only inside the folder: a docs page that names an absolute path must not make the test write there.
      if (typeof file !== 'string' || file.includes('$') || path.isAbsolute(file) || file.split('/').includes('..')) continue;
      const at = path.resolve(folder, file);
      await mkdir(path.dirname(at), { recursive: true });
      await writeFile(at, content);
    }
  }
}

/** The commands `gitwatch --help` lists. */
async function commands(dir: string): Promise<Set<string>> {
  const help = await runCli(['--help'], { cwd: dir, env: testEnv(dir) });
  assert.equal(help.code, 0, help.stderr);
  const section = help.stdout.split(/^Commands:$/m)[1] ?? '';
  return new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1] ?? ''));
}

describe('docs', () => {
  test('the configuration reference is the schema’s (npm run gen:docs)', async () => {
    const { generate, OUTPUT } = await reference();
    assert.equal(await readFile(OUTPUT, 'utf8'), await generate(), 'docs/config-reference.md is stale: run npm run gen:docs');
  });

  test('the configuration reference names every key of the schema, and every key has an example the schema accepts', async () => {
    const { OUTPUT, SCHEMA } = await reference();
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as Record<string, unknown>;
    const page = await readFile(OUTPUT, 'utf8');
    const headings = [...page.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1] ?? '');
    const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
    ajv.addSchema(schema);
    const missing: string[] = [];
    const invalid: string[] = [];
    const noExample: string[] = [];
    /** A key's examples are its own or those of the definition it refers to. */
    const hasExamples = (node: unknown): boolean => {
      const n = node as Record<string, unknown>;
      if (Array.isArray(n['examples']) && n['examples'].length > 0) return true;
      const ref = n['$ref'];
      return typeof ref === 'string' && ref.startsWith('#/$defs/') && hasExamples((schema['$defs'] as Record<string, unknown>)[ref.slice('#/$defs/'.length)]);
    };
    const visit = (node: unknown, pointer: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const example of (n['examples'] ?? []) as unknown[]) {
        if (!ajv.validate({ $ref: `${String(schema['$id'])}${pointer}` }, example)) invalid.push(`${pointer}: ${JSON.stringify(example)}: ${ajv.errorsText()}`);
      }
      for (const [key, child] of Object.entries((n['properties'] ?? {}) as Record<string, unknown>)) {
        if (!headings.some((h) => h === key || h.endsWith(`.${key}`))) missing.push(`${pointer}/properties/${key}`);
        if (!hasExamples(child)) noExample.push(`${pointer}/properties/${key}`);
        visit(child, `${pointer}/properties/${key}`);
      }
      for (const [i, branch] of ((n['anyOf'] ?? []) as unknown[]).entries()) visit(branch, `${pointer}/anyOf/${i}`);
      if (n === schema) for (const [name, def] of Object.entries((n['$defs'] ?? {}) as Record<string, unknown>)) visit(def, `#/$defs/${name}`);
    };
    visit(schema, '#');
    assert.deepEqual(missing, [], 'keys of the schema missing from docs/config-reference.md');
    assert.deepEqual(invalid, [], 'examples in the schema that the schema refuses');
    assert.deepEqual(noExample, [], 'keys without examples in the schema (the reference shows them)');
  });

  test('every gitwatch.yaml in the docs passes gitwatch validate', async (t) => {
    const dir = await tempDir(t, 'gitwatch-docs-');
    const yaml = (await allBlocks()).filter((b) => b.info === 'yaml' || b.info === 'yml');
    assert.ok(yaml.length >= 10, `only ${yaml.length} yaml blocks found`);
    const problems: string[] = [];
    for (const block of yaml) {
      const problem = await validateBlock(t, block, dir);
      if (problem !== undefined) problems.push(problem);
    }
    assert.deepEqual(problems, []);
  });

  test('every `gitwatch <command>` in a shell block is a command gitwatch has', async (t) => {
    const dir = await tempDir(t, 'gitwatch-docs-');
    const known = await commands(dir);
    assert.ok(known.has('run') && known.has('validate'), [...known].join(' '));
    const unknown: string[] = [];
    let seen = 0;
    for (const block of await allBlocks()) {
      const shell = shellOf(block);
      if (shell === undefined) continue;
      for (const { word, line } of commandsIn(shell)) {
        seen++;
        if (!known.has(word)) unknown.push(`${path.relative(ROOT, block.file)}:${block.line + 1 + line}: gitwatch ${word}`);
      }
    }
    assert.ok(seen >= 20, `only ${seen} commands found`);
    assert.deepEqual(unknown, []);
  });

  test('every internal link and anchor resolves', async (t) => {
    const problems: string[] = [];
    for (const file of await docFiles(ROOT)) {
      for (const link of links(file, await readFile(file, 'utf8'))) {
        const found = await linkProblem(link, PENDING);
        if (found === undefined) continue;
        const text = found.problem.replace(`${ROOT}/`, '');
        if (found.pending && !REQUIRE_PENDING) t.diagnostic(`not yet here (another change brings it): ${text}`);
        else problems.push(text);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the checks catch what they are for', async (t) => {
    const dir = await tempDir(t, 'gitwatch-docs-');
    // A broken file link, a broken anchor and a good one.
    const page = path.join(dir, 'page.md');
    await writeFile(page, '# Title\n\n## A `key`: here\n\n[a](#a-key-here) [b](#nowhere) [c](missing.md) [d](page.md#title)\n');
    const found = [];
    for (const link of links(page, await readFile(page, 'utf8'))) found.push(await linkProblem(link, PENDING));
    assert.deepEqual(
      found.map((f) => f?.problem.replace(`${dir}/`, '')),
      [undefined, 'page.md:5: #nowhere: no heading with the anchor #nowhere', 'page.md:5: missing.md: no such file', undefined],
    );
    assert.deepEqual([...anchors('# A\n## A\n```\n# not a heading\n```\n## `x.<name>.y`\n')], ['a', 'a-1', 'xnamey']);
    assert.equal(slug('Health, metrics and webhooks: `gitwatch run --listen HOST:PORT`'), 'health-metrics-and-webhooks-gitwatch-run---listen-hostport');
    // A typo in a key fails validate; a fragment is checked inside a config.
    const typo: Block = { file: page, line: 1, info: 'yaml', text: 'version: 1\nrepos:\n  a:\n    url: .\n    pipline: [make]\n' };
    assert.match((await validateBlock(t, typo, dir)) ?? '', /pipline/);
    const fragment: Block = { file: page, line: 2, info: 'yaml', text: '# fragment: repo\nretry: { attempts: 0 }\n' };
    assert.match((await validateBlock(t, fragment, dir)) ?? '', /attempts/);
    assert.equal(configOf({ file: page, line: 3, info: 'yaml', text: '# not gitwatch.yaml: fleet.yml\nbranches: [main]\n' }), undefined);
    // A command that does not exist is found; options, paths and comments are not commands.
    assert.deepEqual(
      commandsIn('gitwatch frobnicate\ndocker run --name gitwatch --rm gitwatch # gitwatch nothing\nnpm i -g gitwatch-runner && gitwatch once -v').map(
        (c) => c.word,
      ),
      ['frobnicate', 'once'],
    );
  });
});
