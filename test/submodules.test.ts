// `submodules: true`: submodules checked out recursively from real repositories, their URLs held to the
// rules of `url`.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveRelative, submodulePathProblem } from '../src/git/submodules.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { startHttpGit } from './helpers/http-git.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const READ_STEP = 'echo "$(cat lib/lib.txt) $(cat lib/nested/n.txt) $(git -C lib rev-list --count HEAD) $(ls -a lib | tr "\\n" " ")" >> "$RECORD"';

async function fixture(root: string): Promise<{ app: TestRepo; lib: TestRepo; nested: TestRepo }> {
  const nested = await TestRepo.create(path.join(root, 'nested'));
  await nested.commit({ 'n.txt': 'nested-1\n' });
  const lib = await TestRepo.create(path.join(root, 'lib'));
  await lib.commit({ 'lib.txt': 'lib-1\n' });
  lib.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../nested', 'nested');
  await lib.commit({}, 'add nested');
  const app = await TestRepo.create(path.join(root, 'app'));
  app.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../lib', 'lib');
  await app.commit({}, 'add lib');
  return { app, lib, nested };
}

describe('submodules', () => {
  test('are checked out recursively at their gitlinks, shallow, and follow a bumped gitlink; off, the folder stays empty', async (t) => {
    const root = await tempDir(t);
    const { app, lib } = await fixture(root);
    const project = await makeProject(t, {
      version: 1,
      repos: {
        app: { url: app.url, submodules: true, pipeline: [READ_STEP, 'echo left > lib/leftover.txt'] },
        plain: { url: app.url, pipeline: ['ls -A lib | wc -l >> "$RECORD"'] },
      },
    });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await project.record(), ['lib-1 nested-1 1 . .. .git .gitmodules README.md counter.txt lib.txt nested ', '0']);

    await lib.commit({ 'lib.txt': 'lib-2\n' });
    app.git('-C', 'lib', 'pull', '--quiet', '--no-rebase', 'origin', 'main');
    await app.commit({}, 'bump lib');
    const second = await project.cli('once', 'app');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    // The new gitlink's commit, and what the last run left inside the submodule is gone.
    assert.equal((await project.record())[2], 'lib-2 nested-1 1 . .. .git .gitmodules README.md counter.txt lib.txt nested ');
  });

  test('a submodule URL with a forbidden transport fails the run before git follows it', async (t) => {
    const root = await tempDir(t);
    const app = await TestRepo.create(path.join(root, 'app'));
    const marker = path.join(root, 'pwned');
    await writeFile(path.join(app.dir, '.gitmodules'), `[submodule "evil"]\n\tpath = evil\n\turl = ext::sh -c touch% ${marker}\n`);
    app.git('update-index', '--add', '--cacheinfo', `160000,${app.head()},evil`);
    app.git('add', '.gitmodules');
    app.git('commit', '--quiet', '-m', 'evil submodule');
    const project = await makeProject(t, { version: 1, repos: { app: { url: app.url, submodules: true, pipeline: ['echo ran >> "$RECORD"'] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /submodule 'evil': the 'ext::' transport is not allowed/);
    assert.equal(existsSync(marker), false);
    assert.deepEqual(await project.record(), []);
    assert.deepEqual(await readdir(path.join(project.dir, '.gitwatch', '.git-store', 'app.git', 'modules')).catch(() => []), []);
  });

  test('relative URLs resolve against the superproject; paths stay inside the checkout', () => {
    assert.equal(resolveRelative('../lib.git', 'https://example.com/org/app.git'), 'https://example.com/org/lib.git');
    assert.equal(resolveRelative('./sub', 'https://example.com/org/app.git'), 'https://example.com/org/app.git/sub');
    assert.equal(resolveRelative('../../x/lib.git', 'git@example.com:org/app.git'), 'git@example.com:x/lib.git');
    assert.equal(resolveRelative('../../../lib', 'https://example.com/a/b'), 'https://example.com/lib');
    assert.equal(resolveRelative('https://other.example/lib.git', 'https://example.com/a'), 'https://other.example/lib.git');
    assert.equal(submodulePathProblem('vendor/lib'), undefined);
    assert.notEqual(submodulePathProblem('../outside'), undefined);
    assert.notEqual(submodulePathProblem('lib/.GIT/hooks'), undefined);
    assert.notEqual(submodulePathProblem('/etc'), undefined);
  });
});

describe('submodule credentials', () => {
  test("a submodule on the repo's host gets its credentials; one on another host gets none", async (t) => {
    const root = await tempDir(t);
    const served = path.join(root, 'served');
    const lib = await TestRepo.create(path.join(root, 'lib.git'));
    await lib.commit({ 'lib.txt': 'lib-1\n' });
    const app = await TestRepo.create(path.join(root, 'app'));
    app.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../lib.git', 'lib');
    await app.commit({}, 'add lib');
    for (const [from, name] of [
      [app.dir, 'app.git'],
      [lib.dir, 'lib.git'],
    ] as const) {
      app.git('clone', '--quiet', '--bare', from, path.join(served, name));
      app.git('--git-dir', path.join(served, name), 'config', 'uploadpack.allowReachableSHA1InWant', 'true');
    }
    const http = await startHttpGit(t, { root: served, user: 'deploy', password: 'right-token' });
    const other = await startHttpGit(t, { root: served, user: 'deploy', password: 'right-token' });
    const url = http.url('app.git').replace('http://', 'http://deploy:right-token@');
    const project = await makeProject(t, { version: 1, repos: { app: { url, submodules: true, pipeline: ['cat lib/lib.txt >> "$RECORD"'] } } });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await project.record(), ['lib-1']);

    // The same submodule named by an absolute URL on another port: another host as far as credentials go.
    await writeFile(path.join(app.dir, '.gitmodules'), `[submodule "lib"]\n\tpath = lib\n\turl = ${other.url('lib.git')}\n`);
    app.git('add', '.gitmodules');
    app.git('commit', '--quiet', '-m', 'lib elsewhere');
    app.git('push', '--quiet', path.join(served, 'app.git'), 'main');
    const second = await project.cli('once');
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.ok(other.denied() > 0, 'git never asked the other host');
    assert.equal(other.requests(), 0, 'the other host was given the credentials');
    assert.doesNotMatch(second.stdout + second.stderr, /right-token/);
  });
});
