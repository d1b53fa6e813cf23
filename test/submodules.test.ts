// `submodules: true`: submodules checked out recursively from real repositories, their URLs held to the
// rules of `url`.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveRelative, submodulePathProblem } from '../src/git/submodules.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { startHttpGit } from './helpers/http-git.js';
import { makeProject, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const READ_STEP = 'echo "$(cat lib/lib.txt) $(cat lib/nested/n.txt) $(git -C lib rev-list --count HEAD) $(ls -a lib | tr "\\n" " ")" >> "$RECORD"';

/** `lib`, which has `nested` as a submodule. */
async function libraries(root: string): Promise<{ lib: TestRepo; nested: TestRepo }> {
  const nested = await TestRepo.create(path.join(root, 'nested'));
  await nested.commit({ 'n.txt': 'nested-1\n' });
  const lib = await TestRepo.create(path.join(root, 'lib'));
  await lib.commit({ 'lib.txt': 'lib-1\n' });
  lib.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../nested', 'nested');
  await lib.commit({}, 'add nested');
  return { lib, nested };
}

async function fixture(root: string): Promise<{ app: TestRepo; lib: TestRepo; nested: TestRepo }> {
  const { lib, nested } = await libraries(root);
  const app = await TestRepo.create(path.join(root, 'app'));
  app.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../lib', 'lib');
  await app.commit({}, 'add lib');
  return { app, lib, nested };
}

/** Records everything under `lib` (a `.git` without its contents), or that there is no `lib`. */
const TREE_STEP =
  '{ if [ -e lib ]; then find lib -name .git -print -prune -o -print | LC_ALL=C sort | tr "\\n" " "; else printf "no lib"; fi; echo; } >> "$RECORD"';

/** Makes `change` (a new commit), runs gitwatch once, and returns the line its pipeline recorded. */
async function runAfter(project: Project, change: () => unknown): Promise<string | undefined> {
  await change();
  const before = (await project.record()).length;
  const result = await project.cli('once');
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const lines = await project.record();
  assert.equal(lines.length, before + 1, 'the pipeline ran once');
  return lines.at(-1);
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

  test('a removed submodule, and a removed nested one, are gone while the commit that removed them runs', async (t) => {
    const root = await tempDir(t);
    const { app, lib } = await fixture(root);
    const project = await makeProject(t, { version: 1, repos: { app: { url: app.url, submodules: true, pipeline: [TREE_STEP] } } });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await project.record(), [
      'lib lib/.git lib/.gitmodules lib/README.md lib/counter.txt lib/lib.txt lib/nested lib/nested/.git lib/nested/README.md lib/nested/n.txt ',
    ]);

    const nestedGone = await runAfter(project, async () => {
      lib.git('rm', '--quiet', 'nested');
      await lib.commit({ 'lib.txt': 'lib-2\n' }, 'drop nested');
      app.git('-C', 'lib', 'pull', '--quiet', '--no-rebase', 'origin', 'main');
      await app.commit({}, 'bump lib');
    });
    assert.equal(nestedGone, 'lib lib/.git lib/.gitmodules lib/README.md lib/counter.txt lib/lib.txt ');

    const libGone = await runAfter(project, async () => {
      app.git('rm', '--quiet', 'lib');
      await app.commit({}, 'drop lib');
    });
    assert.equal(libGone, 'no lib');
  });

  test('a submodule added later, moved to another URL, left without a URL, then replaced by files: each run sees exactly its commit', async (t) => {
    const root = await tempDir(t);
    await libraries(root);
    const other = await TestRepo.create(path.join(root, 'other'));
    await other.commit({ 'other.txt': 'other-1\n' });
    const app = await TestRepo.create(path.join(root, 'app'));
    const project = await makeProject(t, { version: 1, repos: { app: { url: app.url, submodules: true, pipeline: [TREE_STEP] } } });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await project.record(), ['no lib']);

    const added = await runAfter(project, async () => {
      app.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../lib', 'lib');
      await app.commit({}, 'add lib');
    });
    assert.equal(
      added,
      'lib lib/.git lib/.gitmodules lib/README.md lib/counter.txt lib/lib.txt lib/nested lib/nested/.git lib/nested/README.md lib/nested/n.txt ',
    );

    const moved = await runAfter(project, async () => {
      await writeFile(path.join(app.dir, '.gitmodules'), '[submodule "lib"]\n\tpath = lib\n\turl = ../other\n');
      app.git('update-index', '--cacheinfo', `160000,${other.head()},lib`);
      app.git('add', '.gitmodules');
      app.git('commit', '--quiet', '-m', 'lib from other');
    });
    assert.equal(moved, 'lib lib/.git lib/README.md lib/other.txt ');

    const unconfigured = await runAfter(project, async () => {
      await writeFile(path.join(app.dir, '.gitmodules'), '');
      app.git('add', '.gitmodules');
      app.git('commit', '--quiet', '-m', 'lib without a URL');
    });
    // As `git submodule update` leaves it: an empty folder.
    assert.equal(unconfigured, 'lib ');

    const files = await runAfter(project, async () => {
      app.git('rm', '--quiet', '--cached', 'lib');
      await rm(path.join(app.dir, 'lib'), { recursive: true, force: true });
      await app.commit({ 'lib/plain.txt': 'plain\n' }, 'lib as files');
    });
    assert.equal(files, 'lib lib/plain.txt ');
  });

  test('a symlink a step puts where a submodule is checked out is removed, never followed', async (t) => {
    const root = await tempDir(t);
    const { app, lib } = await fixture(root);
    const outside = path.join(root, 'outside');
    await mkdir(path.join(outside, 'nested'), { recursive: true });
    await writeFile(path.join(outside, 'keep.txt'), 'keep\n');
    await writeFile(path.join(outside, 'nested', 'keep.txt'), 'keep\n');
    // A symlink out of the checkout: the first run puts one where the nested submodule was, the second where the submodule was.
    const swap = [
      'if [ ! -e "$RECORD.once" ]; then touch "$RECORD.once" && rm -rf lib/nested && ln -s "$OUTSIDE/nested" lib/nested;',
      'elif [ -d lib ]; then rm -rf lib && ln -s "$OUTSIDE" lib; fi',
    ].join(' ');
    const project = await makeProject(t, {
      version: 1,
      repos: { app: { url: app.url, submodules: true, env: { OUTSIDE: outside }, pipeline: [TREE_STEP, swap] } },
    });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const bumped = await runAfter(project, async () => {
      await lib.commit({ 'lib.txt': 'lib-2\n' });
      app.git('-C', 'lib', 'pull', '--quiet', '--no-rebase', 'origin', 'main');
      await app.commit({}, 'bump lib');
    });
    assert.equal(
      bumped,
      'lib lib/.git lib/.gitmodules lib/README.md lib/counter.txt lib/lib.txt lib/nested lib/nested/.git lib/nested/README.md lib/nested/n.txt ',
    );
    const dropped = await runAfter(project, async () => {
      app.git('rm', '--quiet', 'lib');
      await app.commit({}, 'drop lib');
    });
    assert.equal(dropped, 'no lib');
    assert.deepEqual((await readdir(outside)).sort(), ['keep.txt', 'nested']);
    assert.deepEqual(await readdir(path.join(outside, 'nested')), ['keep.txt']);
  });

  test('turned off, the folders of submodules checked out before are emptied', async (t) => {
    const root = await tempDir(t);
    const { app } = await fixture(root);
    const config = (submodules: boolean): unknown => ({ version: 1, repos: { app: { url: app.url, submodules, pipeline: [TREE_STEP] } } });
    const project = await makeProject(t, config(true));
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const off = await runAfter(project, async () => {
      await project.writeConfig(config(false));
      await app.commit({}, 'next');
    });
    assert.equal(off, 'lib ');
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
