// A large config's document is kept between loads: used while the text is the same, never in place of the
// rules, and never from a folder someone else could write to.

import assert from 'node:assert/strict';
import { chmod, readdir, readFile, rename, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { MAX_ENTRIES, parseConfigCached } from '../src/config/parse-cache.js';
import { parseConfig, type ParseOptions } from '../src/config/parse.js';
import type { ResolvedConfig } from '../src/config/types.js';
import { tempDir } from './helpers/temp.js';

/** A config of `n` repos, the first one's URL taken from $TOKEN_HOST. */
function bigConfig(n: number): string {
  const repos = Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `r${i}`,
      { url: i === 0 ? 'https://${TOKEN_HOST}/r0.git' : `https://git.example.com/team/repo-${i}.git`, pipeline: ['make deploy'] },
    ]),
  );
  return stringify({ version: 1, repos });
}

/** os.tmpdir() follows TMPDIR: each test gets a cache folder of its own. */
async function ownCache(t: TestContext): Promise<{ root: string; dir: string }> {
  const root = await tempDir(t);
  const before = process.env['TMPDIR'];
  process.env['TMPDIR'] = root;
  t.after(() => {
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
  });
  return { root, dir: path.join(root, `gitwatch-config-cache-${process.getuid?.() ?? 0}`) };
}

function options(root: string, env: Record<string, string> = { TOKEN_HOST: 'git.example.com' }): ParseOptions {
  return { file: 'gitwatch.yaml', absolutePath: path.join(root, 'gitwatch.yaml'), env };
}

function loaded(text: string, opts: ParseOptions): ResolvedConfig {
  const result = parseConfigCached(text, opts);
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

/** Edits the one cached document in place, keeping its key: what a load then returns shows whether it was used. */
async function tamper(dir: string): Promise<void> {
  const [name] = await readdir(dir);
  const file = path.join(dir, name ?? '');
  const entry = JSON.parse(await readFile(file, 'utf8')) as { data: { repos: Record<string, Record<string, unknown>> } };
  const first = entry.data.repos['r0'];
  assert.ok(first);
  first['interval'] = '7m';
  await writeFile(file, JSON.stringify(entry));
}

test('a large config is loaded from its kept document while its text is the same', async (t) => {
  const { root, dir } = await ownCache(t);
  const text = bigConfig(300);
  const first = loaded(text, options(root));
  assert.equal(first.repos[0]?.intervalMs, 60_000);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  const files = await readdir(dir);
  assert.equal(files.length, 1);
  assert.equal((await stat(path.join(dir, files[0] ?? ''))).mode & 0o777, 0o600);

  await tamper(dir);
  assert.equal(loaded(text, options(root)).repos[0]?.intervalMs, 7 * 60_000, 'the kept document was not used');
  // Any edit of the text is a new document.
  assert.equal(loaded(`${text}# edited\n`, options(root)).repos[0]?.intervalMs, 60_000);
  assert.equal((await readdir(dir)).length, 1, 'one entry per config file');
});

test('a kept document still meets every rule, and a problem is placed at its line as without the cache', async (t) => {
  const { root } = await ownCache(t);
  const text = bigConfig(300);
  loaded(text, options(root));
  // Now without the variable the first URL needs: the rules run on the kept document and the YAML is read to place the problem.
  const cached = parseConfigCached(text, options(root, {}));
  const plain = parseConfig(text, options(root, {}));
  assert.equal(cached.ok, false);
  assert.deepEqual(cached, plain);
  assert.ok(!cached.ok && cached.error.some((d) => d.line === 4 && /TOKEN_HOST is not set/.test(d.message)), JSON.stringify(cached));
});

test('a cache folder others may write to is not read', async (t) => {
  const { root, dir } = await ownCache(t);
  const text = bigConfig(300);
  loaded(text, options(root));
  await tamper(dir);
  await chmod(dir, 0o777);
  assert.equal(loaded(text, options(root)).repos[0]?.intervalMs, 60_000, 'a folder others can write to was trusted');
});

test('the folder keeps the entries written last, up to its limit', async (t) => {
  const { root, dir } = await ownCache(t);
  const text = bigConfig(2);
  const at = (i: number): ParseOptions => ({ ...options(root), absolutePath: path.join(root, `p${i}`, 'gitwatch.yaml') });
  // Five entries written an hour ago: the oldest by far, whatever the file system's timestamp granularity.
  for (let i = 0; i < 5; i++) loaded(text, at(i));
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const name of await readdir(dir)) await utimes(path.join(dir, name), hourAgo, hourAgo);
  for (let i = 5; i < MAX_ENTRIES + 5; i++) loaded(text, at(i));
  const files = await readdir(dir);
  assert.equal(files.length, MAX_ENTRIES);
  const paths = await Promise.all(files.map(async (f) => (JSON.parse(await readFile(path.join(dir, f), 'utf8')) as { path: string }).path));
  for (let i = 0; i < 5; i++) assert.ok(!paths.includes(at(i).absolutePath), `the old entry ${i} was kept`);
  for (let i = 5; i < MAX_ENTRIES + 5; i++) assert.ok(paths.includes(at(i).absolutePath), `the new entry ${i} was pruned`);
});

test('an entry that is a symlink, or that others may write to, is not read', async (t) => {
  const { root, dir } = await ownCache(t);
  const text = bigConfig(300);
  loaded(text, options(root));
  await tamper(dir);
  const [name] = await readdir(dir);
  const file = path.join(dir, name ?? '');
  await chmod(file, 0o622);
  assert.equal(loaded(text, options(root)).repos[0]?.intervalMs, 60_000, 'an entry others may write to was trusted');
  loaded(text, options(root));
  await tamper(dir);
  const elsewhere = path.join(root, 'elsewhere.json');
  await rename(file, elsewhere);
  await symlink(elsewhere, file);
  assert.equal(loaded(text, options(root)).repos[0]?.intervalMs, 60_000, 'a symlinked entry was followed');
});
