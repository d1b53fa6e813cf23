// The commit message read from a loose object agrees with git's, and anything unusual is left to git.

import assert from 'node:assert/strict';
import { readFile, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { looseCommitMessage } from '../src/git/loose-object.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { tempDir } from './helpers/temp.js';

describe('a commit message from a loose object', () => {
  test("is git's message, for one line, several lines, a skip marker and non-ASCII text", async (t) => {
    const repo = await TestRepo.create(path.join(await tempDir(t), 'r'));
    const store = path.join(repo.dir, '.git');
    for (const message of ['one line', 'subject\n\nbody line 1\nbody line 2\n\n[skip ci]', 'déploiement 🚀 [gitwatch skip]']) {
      const sha = await repo.commit({}, message);
      const ours = await looseCommitMessage(store, sha);
      assert.ok(ours !== undefined, 'a fresh commit is a loose object');
      assert.equal(ours.trimEnd(), repo.git('log', '-1', '--format=%B', sha).trimEnd());
    }
  });

  test('is left to git for a packed object, a message in another encoding, and a file that is not what its name says', async (t) => {
    const repo = await TestRepo.create(path.join(await tempDir(t), 'r'));
    const store = path.join(repo.dir, '.git');
    const packed = await repo.commit({}, 'packed');
    repo.git('gc', '--quiet', '--prune=now');
    assert.equal(await looseCommitMessage(store, packed), undefined);

    repo.git('config', 'i18n.commitEncoding', 'ISO-8859-1');
    const latin = await repo.commit({}, 'latin');
    assert.match(repo.git('cat-file', 'commit', latin), /^encoding ISO-8859-1$/m);
    assert.equal(await looseCommitMessage(store, latin), undefined);

    repo.git('config', '--unset', 'i18n.commitEncoding');
    const sha = await repo.commit({}, 'honest');
    const file = path.join(store, 'objects', sha.slice(0, 2), sha.slice(2));
    const forged = Buffer.from('commit 30\0tree x\n\n[skip ci] not this commit');
    await chmod(file, 0o644);
    assert.ok((await readFile(file)).length > 0);
    await writeFile(file, deflateSync(forged));
    assert.equal(await looseCommitMessage(store, sha), undefined);
  });
});
