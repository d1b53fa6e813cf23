// The config watcher on a real file system: what editors and Kubernetes do to a config file must each be
// seen, and seen again the next time. A watcher on the file itself loses the file at the first rename.

import assert from 'node:assert/strict';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { watchConfigFile } from '../src/config/watch.js';
import { tempDir } from './helpers/temp.js';

async function watching(t: TestContext, file: string): Promise<{ seen: () => Promise<void> }> {
  let events = 0;
  const watcher = watchConfigFile(file, () => events++);
  t.after(() => watcher.close());
  // chokidar reports ready asynchronously; give it a moment before the first change.
  await new Promise((r) => setTimeout(r, 300));
  return {
    /** Resolves once an event has come since the last call; fails after 10 s. */
    seen: async () => {
      for (const end = Date.now() + 10_000; events === 0;) {
        if (Date.now() > end) assert.fail('the change was not seen');
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 200));
      events = 0;
    },
  };
}

describe('config watcher', () => {
  test('sees in-place writes and every save by rename, one after another', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'gitwatch.yaml');
    await writeFile(file, 'version: 1\n');
    const w = await watching(t, file);
    await writeFile(file, 'version: 1 # edited in place\n');
    await w.seen();
    for (let i = 0; i < 3; i++) {
      await writeFile(`${file}.swp`, `version: 1 # save ${i}\n`);
      await rename(`${file}.swp`, file);
      await w.seen();
    }
  });

  test('sees a ConfigMap mount swap its ..data link, twice', async (t) => {
    const mount = await tempDir(t);
    const file = path.join(mount, 'gitwatch.yaml');
    const version = async (name: string): Promise<void> => {
      await mkdir(path.join(mount, name));
      await writeFile(path.join(mount, name, 'gitwatch.yaml'), `version: 1 # ${name}\n`);
    };
    await version('..2026_01');
    await symlink('..2026_01', path.join(mount, '..data'));
    await symlink('..data/gitwatch.yaml', file);
    const w = await watching(t, file);
    for (const [next, previous] of [
      ['..2026_02', '..2026_01'],
      ['..2026_03', '..2026_02'],
    ] as const) {
      await version(next);
      await symlink(next, path.join(mount, '..data_tmp'));
      await rename(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
      await rm(path.join(mount, previous), { recursive: true });
      await w.seen();
    }
  });
});
