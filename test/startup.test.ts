// Start-up: on Node 22+ the compiled code is cached between runs, in a folder of this user's own; a folder
// anyone else could write to is not used. Node 20 has no such cache and makes no folder.

import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import module from 'node:module';
import { userInfo } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/temp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hasCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

async function files(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

describe('start-up', () => {
  test(`the compile cache (Node ${process.versions.node}): ${hasCache ? 'kept in an owner-only folder, never in an open one' : 'none on this Node'}`, async (t) => {
    const tmp = await tempDir(t);
    const env = testEnv(tmp, { TMPDIR: tmp });
    delete env['NODE_COMPILE_CACHE'];
    // `--help` starts the command line; `--version` alone is answered before any cache is set up.
    const result = await runCli(['--help'], { cwd: tmp, env });
    assert.equal(result.code, 0, result.stderr);
    const cache = path.join(tmp, `gitwatch-compile-cache-${userInfo().uid}`);
    if (!hasCache) {
      await assert.rejects(stat(cache), 'a cache folder was made on a Node without the cache');
      return;
    }
    assert.equal((await stat(cache)).mode & 0o777, 0o700);
    assert.ok((await files(cache)) > 0, 'nothing was cached');

    // A folder others can write to is not used.
    const open = path.join(await tempDir(t), 'tmp');
    const openCache = path.join(open, `gitwatch-compile-cache-${userInfo().uid}`);
    await mkdir(openCache, { recursive: true });
    await chmod(openCache, 0o777);
    const again = await runCli(['--help'], { cwd: tmp, env: { ...env, TMPDIR: open } });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await files(openCache), 0, 'code was cached in a folder others can write to');
  });
});

interface Metafile {
  outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }>;
}

/** The packages (and src folders) in the chunks Node loads for `module` before any further import(). */
async function loadedWith(...modules: string[]): Promise<Set<string>> {
  const meta = JSON.parse(await readFile(path.join(ROOT, 'dist/bundle-meta.json'), 'utf8')) as Metafile;
  const chunkOf = new Map(Object.entries(meta.outputs).flatMap(([file, o]) => (o.entryPoint === undefined ? [] : [[o.entryPoint, file] as const])));
  const chunks = new Set<string>();
  const queue = modules.map((m) => {
    const chunk = chunkOf.get(`dist/src/cli/${m}.js`);
    assert.ok(chunk !== undefined, `no chunk starts at ${m}`);
    return chunk;
  });
  for (let chunk = queue.pop(); chunk !== undefined; chunk = queue.pop()) {
    if (chunks.has(chunk)) continue;
    chunks.add(chunk);
    for (const i of meta.outputs[chunk]?.imports ?? []) if (i.kind === 'import-statement' && i.external !== true) queue.push(i.path);
  }
  const packages = new Set<string>();
  for (const chunk of chunks)
    for (const input of Object.keys(meta.outputs[chunk]?.inputs ?? {})) packages.add(/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input);
  return packages;
}

describe('what a command loads', () => {
  test('--version loads the entry alone: not the command line parser, the config parser, the validator or listr2', async () => {
    const loaded = await loadedWith('main');
    for (const heavy of ['commander', 'yaml', 'ajv', 'listr2', 'dist/src/cli/boundary.js']) assert.ok(!loaded.has(heavy), `--version loads ${heavy}`);
  });

  test('status (whose daemon has parsed the config) loads no config parser, validator, matcher or listr2 before it knows it needs them', async () => {
    const loaded = await loadedWith('main', 'boundary', 'program', 'status');
    assert.ok(loaded.has('commander'));
    for (const heavy of ['yaml', 'ajv', 'listr2', 'semver', 'picomatch', 'dist/src/config/parse.js', 'dist/src/config/schema-validator.js'])
      assert.ok(!loaded.has(heavy), `status loads ${heavy}`);
  });
});
