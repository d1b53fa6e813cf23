// `tag:` and `semver:`: which tag a repo follows, read from real repositories through the real CLI, and the
// selection rules on their own.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../src/config/parse.js';
import { compareTags, parseRefList, selectBranches, selectTag } from '../src/git/ref-select.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);
const E = 'e'.repeat(40);
const F = 'f'.repeat(40);

const TAG_STEP = 'echo "$GITWATCH_REPO $GITWATCH_COMMIT tag=$GITWATCH_TAG branch=$GITWATCH_BRANCH" >> "$RECORD"';

describe('tag selection', () => {
  const list = parseRefList(
    [
      `ref: refs/heads/main\tHEAD`,
      `${A}\tHEAD`,
      `${A}\trefs/heads/main`,
      `${B}\trefs/tags/v1.9.3`,
      `${C}\trefs/tags/v1.10.0`,
      `${D}\trefs/tags/v1.10.0^{}`,
      `${E}\trefs/tags/v2.0.0`,
      `${F}\trefs/tags/v1.11.0-rc.1`,
      `${A}\trefs/tags/nightly`,
      `${A}\trefs/tags/v1.12.0.lock`,
      '',
    ].join('\n'),
  );

  test('a semver range picks the highest release inside it, peeled to its commit', () => {
    assert.deepEqual(selectTag(list, 'v*', '^1.2'), { tag: 'v1.10.0', sha: D, matching: ['v1.9.3', 'v1.10.0'] });
    // A range that names a pre-release admits it.
    assert.equal(selectTag(list, 'v*', '>=1.11.0-rc.0 <2')?.tag, 'v1.11.0-rc.1');
    assert.equal(selectTag(list, 'v*', '^3'), undefined);
  });

  test('without a range: versions by version order above other names; names no ref may have are left out', () => {
    assert.equal(selectTag(list, 'v*')?.tag, 'v2.0.0');
    assert.equal(selectTag(list, '*')?.tag, 'v2.0.0');
    assert.equal(selectTag(list, 'n*')?.tag, 'nightly');
    assert.ok(!selectTag(list, '*')?.matching.includes('v1.12.0.lock'));
    assert.deepEqual(['b', 'v1.0.0', 'a', '1.0.0', 'v1.0.0-rc.1', 'v0.9.0'].sort(compareTags), ['a', 'b', 'v0.9.0', 'v1.0.0-rc.1', '1.0.0', 'v1.0.0']);
  });

  test('branch globs: * stays within one part, ** crosses parts, in name order', () => {
    const branches = parseRefList(
      [`${A}\trefs/heads/release/2.0`, `${B}\trefs/heads/release/1.0`, `${C}\trefs/heads/release/x/y`, `${D}\trefs/heads/main`].join('\n'),
    );
    assert.deepEqual(selectBranches(branches, 'release/*'), [
      { branch: 'release/1.0', sha: B },
      { branch: 'release/2.0', sha: A },
    ]);
    assert.deepEqual(
      selectBranches(branches, 'release/**').map((b) => b.branch),
      ['release/1.0', 'release/2.0', 'release/x/y'],
    );
  });
});

describe('tag config', () => {
  const errors = (repo: string): string[] => {
    const text = `version: 1\nrepos:\n  site:\n    url: https://example.com/site.git\n${repo}    pipeline: [make]\n`;
    const result = parseConfig(text, { file: 'gitwatch.yaml', absolutePath: '/srv/gitwatch.yaml', env: {} });
    return result.ok ? [] : result.error.map((d) => `${d.line}:${d.col}: ${d.message} (at ${d.path})`);
  };

  test('tag with branch, semver without tag, a bad range and a bad pattern are errors at their lines', () => {
    assert.deepEqual(errors('    branch: main\n    tag: "v*"\n'), [
      "6:5: a repo follows a branch or a tag, not both: remove 'branch' or 'tag' (at repos.site.tag)",
    ]);
    assert.deepEqual(errors('    semver: "^1"\n'), ["5:5: 'semver' needs 'tag': it narrows the tags that 'tag' matches (at repos.site.semver)"]);
    assert.deepEqual(errors('    tag: "v*"\n    semver: "^^1.x"\n'), ["6:13: '^^1.x' is not a valid semver range (at repos.site.semver)"]);
    assert.match(errors('    tag: "v[1"\n')[0] ?? '', /^5:10: invalid tag pattern 'v\[1': it has a '\[' without its '\]' \(at repos.site.tag\)/);
    assert.match(errors('    branch: "release/*/.."\n')[0] ?? '', /^5:13: invalid branch pattern 'release\/\*\/\.\.': it may not contain '\.\.'/);
    assert.match(errors('    tag: "-v*"\n')[0] ?? '', /^5:10: invalid tag pattern .*may not start with '-'/);
    assert.deepEqual(errors('    tag: "v*"\n    semver: "^1.4"\n'), []);
  });
});

describe('following tags', () => {
  test('semver ^1.2 follows v1.10.0, an annotated tag by its commit; a new matching tag runs, a non-matching one does not', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const tagAt = async (name: string, annotated = false): Promise<string> => {
      const sha = await remote.commit({ 'version.txt': `${name}\n` }, `release ${name}`);
      remote.git('tag', ...(annotated ? ['-a', '-m', `release ${name}`] : []), name);
      return sha;
    };
    await tagAt('v1.9.3');
    const v110 = await tagAt('v1.10.0', true);
    await tagAt('v2.0.0');
    await tagAt('v1.11.0-rc.1');
    await remote.commit({ 'main.txt': 'unreleased\n' });
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, tag: 'v*', semver: '^1.2', pipeline: [TAG_STEP] } } });

    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.notEqual(remote.git('rev-parse', 'v1.10.0'), v110, 'the fixture tag is annotated');
    assert.deepEqual(await project.record(), [`site ${v110} tag=v1.10.0 branch=`]);
    assert.match(first.stdout, /site ▶ \S+ on tag v1\.10\.0 \(first run\)/);
    const state = await project.state();
    assert.deepEqual(
      { ...state.repos['site'], lastRun: undefined, history: undefined },
      { commit: v110, tag: 'v1.10.0', url: remote.url, lastRun: undefined, history: undefined },
    );

    // Outside the range, and a non-matching name: nothing runs.
    await tagAt('v3.0.0');
    await tagAt('release-1.99.0');
    const quiet = await project.cli('once');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /site ✔ up to date/);
    assert.equal((await project.record()).length, 1);

    const v1101 = await tagAt('v1.10.1');
    await remote.commit({ 'main.txt': 'unreleased again\n' });
    // plan follows the tag too: the new release, not the branch's head.
    const plan = await project.cli('plan', '--json');
    assert.equal(plan.code, 0, plan.stderr);
    const [row] = (JSON.parse(plan.stdout) as { repos: { name: string; decision: string; commit: string }[] }).repos;
    assert.deepEqual([row?.name, row?.decision, row?.commit], ['site', 'run', v1101]);
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual((await project.record()).slice(1), [`site ${v1101} tag=v1.10.1 branch=`]);

    const status = await project.cli('status');
    assert.match(status.stdout, /site\s+tag v1\.10\.1\s/);
  });

  test('a tag that moves runs its new commit; a tag that vanishes leaves the lock and says so', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    await remote.commit({ 'v.txt': '1.0\n' });
    remote.git('tag', 'v1.0.0');
    const first = await remote.commit({ 'v.txt': '1.1\n' });
    remote.git('tag', 'v1.1.0');
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, tag: 'v*', pipeline: [TAG_STEP] } } });
    assert.equal((await project.cli('once')).code, 0);

    const moved = await remote.commit({ 'v.txt': '1.1 fixed\n' });
    remote.git('tag', '--force', 'v1.1.0');
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual(await project.record(), [`site ${first} tag=v1.1.0 branch=`, `site ${moved} tag=v1.1.0 branch=`]);

    remote.git('tag', '--delete', 'v1.1.0');
    const before = await project.state();
    const gone = await project.cli('once');
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /site · \S+ tag 'v1\.1\.0' is gone from the remote; the lock keeps its commit/);
    assert.deepEqual(await project.state(), before);
    assert.equal((await project.record()).length, 2, 'the older v1.0.0 ran');

    // A tag above the vanished one is followed again.
    const next = await remote.commit({ 'v.txt': '1.2\n' });
    remote.git('tag', 'v1.2.0');
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual((await project.record()).slice(2), [`site ${next} tag=v1.2.0 branch=`]);
  });

  test('no matching tag fails the check', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, tag: 'v*', semver: '^1', pipeline: [TAG_STEP] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /no tag matches 'v\*' within semver '\^1'/);
  });
});
