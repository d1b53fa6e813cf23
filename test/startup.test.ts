// Start-up: on Node 22+ the compiled code is cached between runs, in a folder of this user's own; a folder
// anyone else could write to is not used. Node 20 has no such cache and makes no folder.

import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import module from 'node:module';
import { userInfo } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/temp.js';

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
    const result = await runCli(['--version'], { cwd: tmp, env });
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
    const again = await runCli(['--version'], { cwd: tmp, env: { ...env, TMPDIR: open } });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await files(openCache), 0, 'code was cached in a folder others can write to');
  });
});
