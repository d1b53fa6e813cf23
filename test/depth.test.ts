// `depth`: how much history gitwatch fetches, read from a real repository with a long history.

import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const COUNT_STEP = 'echo "$GITWATCH_REPO $(git rev-list --count HEAD) $(git log --format=%H | wc -l)" >> "$RECORD"';

async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe('depth', () => {
  test('the default fetch of a 500-commit repo holds the head alone; depth 3 and depth 0 hold as much; 0 later completes a shallow store', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'big'));
    remote.history(500, 4096);
    const all = Number(remote.git('rev-list', '--count', 'HEAD'));
    assert.equal(all, 501);
    const repos = (shallowDepth?: number): unknown => ({
      version: 1,
      repos: {
        shallow: { url: remote.url, pipeline: [COUNT_STEP], ...(shallowDepth === undefined ? {} : { depth: shallowDepth }) },
        three: { url: remote.url, depth: 3, pipeline: [COUNT_STEP] },
        full: { url: remote.url, depth: 0, pipeline: [COUNT_STEP] },
      },
    });
    const project = await makeProject(t, repos());
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await project.record(), ['shallow 1 1', 'three 3 3', `full ${all} ${all}`]);

    const stores = path.join(project.dir, '.gitwatch', '.git-store');
    const shallow = await bytesIn(path.join(stores, 'shallow.git'));
    const full = await bytesIn(path.join(stores, 'full.git'));
    // 500 commits of 4 KiB each: the full store holds about 2 MiB, the shallow one a single version.
    assert.ok(full > 1_500_000, `full store ${full} bytes`);
    assert.ok(shallow * 20 < full, `shallow store ${shallow} bytes against ${full}`);

    await remote.commit({ 'next.txt': 'next\n' });
    await project.writeConfig(repos(0));
    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual((await project.record()).slice(3), [`shallow ${all + 1} ${all + 1}`, 'three 3 3', `full ${all + 1} ${all + 1}`]);
  });
});
