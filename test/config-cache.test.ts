// What a command reads besides the config file: nothing kept from an earlier run can change what runs
// or hold a command up. Steps run as gitwatch's own user and can write wherever gitwatch could keep a
// cache, so gitwatch keeps no parsed config between runs (see docs/security.md); these tests plant what
// the old config cache (`$TMPDIR/gitwatch-config-cache-UID`) would have read.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** The name the old cache gave a config path's entry (two 32-bit FNV-1a hashes). */
function entryName(configPath: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < configPath.length; i++) {
    a = Math.imul(a ^ configPath.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ configPath.charCodeAt(i), 0x01000193);
  }
  return `config-${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}.json`;
}

/** A project whose gitwatch gets a TMPDIR of its own; returns the cache folder gitwatch would use there. */
async function project(t: import('node:test').TestContext, run: string): Promise<{ project: Project; cache: string }> {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const p = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [run] } } });
  const tmp = await tempDir(t, 'gitwatch-tmpdir-');
  p.env['TMPDIR'] = tmp;
  return { project: p, cache: path.join(tmp, `gitwatch-config-cache-${process.getuid?.() ?? 0}`) };
}

test('a FIFO where a cached config would be read holds no command up', async (t) => {
  const { project: p, cache } = await project(t, 'echo ran >> "$RECORD"');
  await mkdir(cache, { mode: 0o700 });
  execFileSync('mkfifo', ['-m', '600', path.join(cache, entryName(p.configPath))]);
  for (const args of [['validate'], ['once'], ['plan'], ['status']]) {
    const started = Date.now();
    const result = await runCli(args, { cwd: p.dir, env: p.env, timeoutMs: 15_000 });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.ok(Date.now() - started < 10_000, `${args.join(' ')} took ${Date.now() - started} ms`);
  }
  assert.deepEqual(await p.record(), ['ran']);
});

test('a cached document edited behind gitwatch changes nothing that runs', async (t) => {
  const { project: p, cache } = await project(t, 'echo FROM-CONFIG >> "$RECORD"');
  assert.equal((await p.cli('validate')).code, 0);
  // Whatever was kept for this config gets another pipeline, its text left as it was.
  for (const name of await readdir(cache).catch(() => [] as string[])) {
    const file = path.join(cache, name);
    const entry = JSON.parse(await readFile(file, 'utf8')) as { data?: { repos?: Record<string, { pipeline?: unknown }> } };
    for (const repo of Object.values(entry.data?.repos ?? {})) repo.pipeline = ['echo FROM-CACHE >> "$RECORD"'];
    await writeFile(file, JSON.stringify(entry));
  }
  const once = await p.cli('once');
  assert.equal(once.code, 0, once.stdout + once.stderr);
  assert.deepEqual(await p.record(), ['FROM-CONFIG']);
});
