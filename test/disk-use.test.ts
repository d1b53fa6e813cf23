// What gitwatch keeps on disk stays bounded: a run log has a size cap, and the daemon compacts each
// repo's private git store, so neither grows with every commit forever.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CappedRunLog } from '../src/pipeline/run-log.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { supervise } from './helpers/supervised.js';
import { tempDir, testEnv } from './helpers/temp.js';

const MiB = 1024 * 1024;

describe('disk use', () => {
  test('a run log keeps 10 MiB of output, marks where it was cut, and still ends with the step results', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const flood = `head -c ${12 * MiB} /dev/zero | tr '\\0' x`;
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [flood, 'echo after'] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const dir = path.join(project.dir, '.gitwatch', 'logs', 'site');
    const [name] = await readdir(dir);
    assert.ok(name !== undefined);
    const file = path.join(dir, name);
    const size = (await stat(file)).size;
    assert.ok(size > 10 * MiB && size < 10 * MiB + 4096, `the run log is ${size} bytes`);
    const text = await readFile(file, 'utf8');
    const cut = text.indexOf("\n[gitwatch: output cut here: this run's log reached its cap of 10 MiB]\n");
    assert.ok(cut > 10 * MiB - 200, `no cut marker where the cap was reached (${cut})`);
    const tail = text
      .slice(cut)
      .split('\n')
      .filter((l) => l !== '');
    assert.deepEqual(tail.slice(1), [
      `<== ${flood}: succeeded`,
      '==> echo after',
      '<== echo after: succeeded',
      `[gitwatch: ${2 * MiB + 6} bytes of output past the cap were not kept]`,
    ]);
  });

  test('the cut is marked once, also when the cap falls between two chunks', () => {
    const written: string[] = [];
    const log = new CappedRunLog({ write: (chunk) => written.push(chunk.toString()) }, 4);
    log.write(Buffer.from('abcd'));
    log.write(Buffer.from('ef'));
    log.note('==> next');
    log.write(Buffer.from('gh'));
    log.finish();
    assert.equal(
      written.join(''),
      "abcd\n[gitwatch: output cut here: this run's log reached its cap of 4 bytes]\n==> next\n[gitwatch: 4 bytes of output past the cap were not kept]\n",
    );
  });

  test("the daemon compacts a repo's git store after some fetches, dropping the objects of rewritten history", async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    await remote.commit({ 'big.bin': randomBytes(MiB).toString('hex') });
    const oldBlob = remote.git('rev-parse', 'HEAD:big.bin');
    const { supervisor, reporter, clock, config } = await supervise(
      t,
      dir,
      { site: { url: remote.url, interval: '10s', pipeline: ['true'] } },
      {},
      { compactAfterFetches: 2 },
    );
    const env = testEnv(dir);
    const runs = async (n: number): Promise<void> => {
      await supervisor.until(() => reporter.of('run-finished').length >= n);
      await supervisor.until((s) => s.every((w) => w.phase === 'idle'));
    };
    await runs(1);
    assert.deepEqual(reporter.of('store-compacted'), [], 'compacted after one fetch');
    // A force push: the commit with the big file is no longer on the branch, so no ref reaches it.
    await remote.forcePush();
    clock.advance(10_000);
    await runs(2);
    const until = Date.now() + 20_000;
    while (reporter.of('store-compacted').length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const [compacted] = reporter.of('store-compacted');
    assert.ok(compacted !== undefined, 'the store was not compacted after two fetches');
    assert.equal(compacted.error, undefined);
    assert.ok(compacted.afterBytes < compacted.beforeBytes - MiB, `${compacted.beforeBytes} → ${compacted.afterBytes} bytes`);
    const store = path.join(config.workdir, '.git-store', 'site.git');
    const has = (sha: string): boolean => {
      try {
        execFileSync('git', [`--git-dir=${store}`, 'cat-file', '-e', sha], { env, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    assert.equal(has(oldBlob), false, "the rewritten commit's big file is still in the store");
    assert.equal(has(remote.head()), true, 'the processed commit went too');
    // The checkout still works after its store was compacted: the next commit runs.
    await remote.commit();
    clock.advance(10_000);
    await runs(3);
    assert.equal(reporter.of('run-finished')[2]?.status, 'succeeded');
  });
});
