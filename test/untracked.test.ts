// Whether a checkout holds anything untracked, told from the index and a walk: never "no" when git clean
// would remove something.

import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { mayHaveUntracked } from '../src/git/untracked.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { tempDir } from './helpers/temp.js';

async function repoWithTree(t: Parameters<typeof tempDir>[0]): Promise<TestRepo> {
  const repo = await TestRepo.create(path.join(await tempDir(t), 'r'));
  await repo.commit({ 'src/app/main.txt': 'x\n', 'src/lib.txt': 'y\n', '.gitignore': 'build/\n' });
  return repo;
}

/** What git clean would remove: the truth the walk must never undercut. */
function gitWouldClean(repo: TestRepo): boolean {
  return repo.git('clean', '-ffdxn', '--exclude=/.git') !== '';
}

describe('untracked files in a checkout', () => {
  test('none in a clean checkout; an edited tracked file is not untracked', async (t) => {
    const repo = await repoWithTree(t);
    const store = path.join(repo.dir, '.git');
    assert.equal(await mayHaveUntracked(store, repo.dir), false);
    await writeFile(path.join(repo.dir, 'src/lib.txt'), 'edited\n');
    assert.equal(await mayHaveUntracked(store, repo.dir), false);
    assert.equal(gitWouldClean(repo), false);
  });

  const cases: [string, (dir: string) => Promise<void>][] = [
    ['an untracked file', (dir) => writeFile(path.join(dir, 'new.txt'), '')],
    ['an ignored folder', (dir) => mkdir(path.join(dir, 'build/out'), { recursive: true }).then(() => writeFile(path.join(dir, 'build/out/a.o'), ''))],
    ['an empty folder', (dir) => mkdir(path.join(dir, 'empty'))],
    ['a file deep in a tracked folder', (dir) => writeFile(path.join(dir, 'src/app/extra.txt'), '')],
    ['a file where a tracked folder was', (dir) => rm(path.join(dir, 'src/app'), { recursive: true }).then(() => writeFile(path.join(dir, 'src/app'), ''))],
  ];
  for (const [what, make] of cases) {
    test(`found: ${what}`, async (t) => {
      const repo = await repoWithTree(t);
      await make(repo.dir);
      assert.equal(gitWouldClean(repo), true, 'the case is one git clean acts on');
      assert.equal(await mayHaveUntracked(path.join(repo.dir, '.git'), repo.dir), true);
    });
  }

  test('left to git: an index in version 4, and a missing index', async (t) => {
    const repo = await repoWithTree(t);
    const store = path.join(repo.dir, '.git');
    repo.git('update-index', '--index-version', '4');
    assert.equal(await mayHaveUntracked(store, repo.dir), true);
    await rm(path.join(store, 'index'));
    assert.equal(await mayHaveUntracked(store, repo.dir), true);
  });
});
