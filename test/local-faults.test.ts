// Local faults during `gitwatch once`: they fail the repo they hit, say what happened, and the other
// repos still run.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type LockFile } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

describe('local faults in once', () => {
  test("a state write that fails fails that repo's run, and the next repo still runs and is recorded", async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const project = await makeProject(t);
    // The state lives in a folder of its own; a's step puts a file in that folder's place, so the write of
    // a's result fails (ENOTDIR, as root too). b's step puts the folder back.
    const folder = path.join(project.dir, 'state');
    const statePath = path.join(folder, 'lock.json');
    await mkdir(folder);
    const once = path.join(project.dir, 'failed-once');
    await project.writeConfig({
      version: 1,
      state: 'state/lock.json',
      repos: {
        a: { url: a.url, pipeline: [RECORD_STEP, `test -e "${once}" || { touch "${once}" && mv "${folder}" "${folder}.away" && touch "${folder}"; }`] },
        b: { url: b.url, pipeline: [`test -d "${folder}" || { rm "${folder}" && mv "${folder}.away" "${folder}"; }`, RECORD_STEP] },
      },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const failure = result.stdout.split('\n').find((l) => l.startsWith('a ✖ succeeded') && l.includes('not recorded'));
    assert.ok(failure !== undefined, result.stdout + result.stderr);
    assert.match(failure, /\(it runs again/);
    assert.ok(failure.includes(`cannot write state file ${statePath}`), failure);
    assert.match(failure, /ENOTDIR/);
    assert.match(result.stdout, /b ✔ succeeded/);
    const readLock = async (): Promise<LockFile> => JSON.parse(await readFile(statePath, 'utf8')) as LockFile;
    const state = await readLock();
    assert.equal(state.repos['a'], undefined, "a's run was recorded after all");
    assert.equal(state.repos['b']?.commit, b.head());
    assert.deepEqual(
      (await project.record()).map((l) => l.split(' ')[0]),
      ['a', 'b'],
    );
    // Not recorded, so a runs again next time.
    const again = await project.cli('once');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await readLock()).repos['a']?.commit, a.head());
  });

  test('what a run left in its checkout is removed before the next fetch, and said', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: ['head -c 1048576 /dev/zero > junk.bin && mkdir -p out/deep && touch out/deep/x', RECORD_STEP] } },
    });
    const checkout = path.join(project.dir, '.gitwatch', 'site');
    assert.equal((await project.cli('once')).code, 0);
    assert.ok(existsSync(path.join(checkout, 'junk.bin')));

    await remote.commit();
    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /site · removed 2 paths the last run left in the checkout, before fetching: (junk\.bin, out\/|out\/, junk\.bin)\n/);

    // A fetch that fails stands for one that needs the space the last run took: the space is freed first.
    const third = await remote.commit();
    const object = path.join(remote.dir, '.git', 'objects', third.slice(0, 2), third.slice(2));
    await rename(object, `${object}.aside`);
    const failed = await project.cli('once');
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /site ✖ check failed: fetching/);
    assert.equal(existsSync(path.join(checkout, 'junk.bin')), false, 'the last run left its file in the checkout');
    assert.equal(existsSync(path.join(checkout, 'out')), false, 'the last run left its folder in the checkout');
    assert.ok(existsSync(path.join(checkout, 'README.md')), 'the tracked files went too');

    await rename(`${object}.aside`, object);
    const recovered = await project.cli('once');
    assert.equal(recovered.code, 0, recovered.stdout + recovered.stderr);
    assert.equal((await project.state()).repos['site']?.commit, third);
  });
});
