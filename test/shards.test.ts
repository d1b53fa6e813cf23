import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fnv1a32, parseShard, shardOf } from '../src/rules/shard.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { startGitwatch } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** Each shard keeps its own state and workdir, as each pod of a StatefulSet keeps its own volume. */
const SHARDED_PATHS = { state: '.shard-${SHARD_ID}.lock.json', workdir: '.shard-${SHARD_ID}' };
const WHO_STEP = 'echo "$GITWATCH_REPO $WHO" >> "$RECORD"';

function names(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `repo-${String(i).padStart(2, '0')}`);
}

function configOf(url: string, repoNames: readonly string[]): unknown {
  return { version: 1, ...SHARDED_PATHS, repos: Object.fromEntries(repoNames.map((n) => [n, { url, pipeline: [WHO_STEP] }])) };
}

/** `gitwatch ARGS` as shard `index` of 3: `--shard` for two of them, GITWATCH_SHARD for the third. */
function asShard(project: Project, index: number, ...args: string[]): Promise<CliResult> {
  const env = { ...project.env, SHARD_ID: String(index), WHO: `shard${index}` };
  if (index === 2) return runCli(args, { cwd: project.dir, env: { ...env, GITWATCH_SHARD: '2/3' } });
  return runCli([...args, '--shard', `${index}/3`], { cwd: project.dir, env });
}

describe('shards', () => {
  test('the hash is FNV-1a 32-bit of the UTF-8 name, shards numbered from 0', () => {
    // The reference vectors of FNV-1a 32 (Fowler, Noll, Vo).
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    // UTF-8 bytes, not UTF-16 units: 'é' is the two bytes c3 a9.
    assert.equal(fnv1a32('é'), Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0);
    assert.equal(shardOf('foobar', 3), 0xbf9cf968 % 3);
    assert.equal(shardOf('site@release/1', 7), shardOf('site', 7), "a glob's target goes with its repo");
    assert.deepEqual(parseShard('1/3'), { ok: true, value: { index: 1, count: 3 } });
    for (const bad of ['3/3', '0/0', '1', 'a/b', '-1/3', '1/3/4', '']) assert.equal(parseShard(bad).ok, false, bad);
  });

  test('three shards over 30 repos run each repo exactly once; adding a repo moves no other', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'remote'));
    const all = names(30);
    const project = await makeProject(t, configOf(remote.url, all));

    // At once, with no coordination but the hash.
    const first = await Promise.all([0, 1, 2].map((i) => asShard(project, i, 'once')));
    for (const r of first) assert.equal(r.code, 0, r.stdout + r.stderr);
    const ran = await project.record();
    assert.deepEqual(ran.map((l) => l.split(' ')[0]).sort(), all, 'every repo ran exactly once overall');
    for (const line of ran) {
      const [name = '', who] = line.split(' ');
      assert.equal(who, `shard${shardOf(name, 3)}`, `${name} ran on the shard its hash names`);
    }
    // Each shard holds some repos: the split is real, not all on one.
    for (const i of [0, 1, 2])
      assert.ok(
        ran.some((l) => l.endsWith(` shard${i}`)),
        `shard ${i} ran nothing`,
      );

    // One more repo: only it runs. A repo that moved would be new to its new shard's state, and run again.
    await project.writeConfig(configOf(remote.url, [...all, 'repo-new']));
    const second = await Promise.all([0, 1, 2].map((i) => asShard(project, i, 'once')));
    for (const r of second) assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual((await project.record()).slice(ran.length), [`repo-new shard${shardOf('repo-new', 3)}`]);

    // status and plan show one shard's repos, and say which shard.
    const mine = all.filter((n) => shardOf(n, 3) === 1);
    const status = await asShard(project, 1, 'status', '--json');
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { shard: string | null; repos: { name: string }[] };
    assert.equal(report.shard, '1/3');
    assert.deepEqual(
      report.repos.map((r) => r.name).filter((n) => n !== 'repo-new'),
      mine,
    );
    assert.match((await asShard(project, 1, 'status')).stdout, /^shard 1\/3/);
    const plan = await asShard(project, 1, 'plan', '--json');
    assert.equal(plan.code, 0, plan.stderr);
    const planned = (JSON.parse(plan.stdout) as { repos: { name: string; decision: string }[] }).repos;
    assert.deepEqual(
      planned.map((p) => p.name).filter((n) => n !== 'repo-new'),
      mine,
    );
    assert.ok(
      planned.every((p) => p.decision === 'up to date'),
      plan.stdout,
    );

    // A repo of another shard, named to this one, exits 2 and says where it is.
    const other = all.find((n) => shardOf(n, 3) === 0) ?? '';
    for (const args of [
      ['once', other],
      ['trigger', other],
      ['logs', other],
      ['pause', other],
    ]) {
      const r = await asShard(project, 1, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`'${other}' belongs to shard 0/3; this is shard 1/3`));
    }
  });

  test('a daemon runs its shard: status says so, a name of another shard is refused, a reload keeps the shard', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'remote'));
    const all = names(9);
    const project = await makeProject(t, configOf(remote.url, all));
    const env = { ...project.env, SHARD_ID: '1', WHO: 'shard1' };
    const daemon = startGitwatch(t, { ...project, env }, ['run', '--shard', '1/3']);
    const mine = all.filter((n) => shardOf(n, 3) === 1);
    const status = async (): Promise<{ shard: string | null; repos: { name: string }[] }> => {
      // No --shard here: the daemon says which shard it runs.
      const r = await runCli(['status', '--json'], { cwd: project.dir, env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { shard: string | null; repos: { name: string }[] };
    };
    await daemon.until(async () => (await project.record()).length === mine.length, "the shard's repos ran");
    const report = await status();
    assert.equal(report.shard, '1/3');
    assert.deepEqual(
      report.repos.map((r) => r.name),
      mine,
    );
    const other = all.find((n) => shardOf(n, 3) === 2) ?? '';
    const refused = await runCli(['trigger', other], { cwd: project.dir, env });
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`'${other}' belongs to shard 2/3; this is shard 1/3`));

    // Two new repos, one per side of the split: only this shard's starts here.
    const added = ['added-a', 'added-b', 'added-c', 'added-d'].filter((n) => shardOf(n, 3) === 1).slice(0, 1);
    const elsewhere = ['added-a', 'added-b', 'added-c', 'added-d'].filter((n) => shardOf(n, 3) !== 1).slice(0, 1);
    assert.equal(added.length + elsewhere.length, 2, 'the names cover both sides');
    await project.writeConfig(configOf(remote.url, [...all, ...added, ...elsewhere]));
    await daemon.until(async () => (await status()).repos.length === mine.length + 1, 'the reload');
    assert.deepEqual(
      (await status()).repos.map((r) => r.name),
      [...mine, ...added],
    );
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('a shard that is not I/N with I below N is a usage error', async (t) => {
    const project = await makeProject(t, { version: 1, repos: { site: { url: 'https://example.com/site.git', pipeline: ['true'] } } });
    for (const value of ['3/3', '0/0', 'two', '1/']) {
      const r = await project.cli('once', '--shard', value);
      assert.equal(r.code, 2, `--shard ${value}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /--shard: /);
    }
    const fromEnv = await runCli(['status'], { cwd: project.dir, env: { ...project.env, GITWATCH_SHARD: '5/2' } });
    assert.equal(fromEnv.code, 2);
    assert.match(fromEnv.stderr, /GITWATCH_SHARD: '5\/2': I must be below N/);
    // The flag wins over the variable.
    const both = await runCli(['status', '--shard', '0/1'], { cwd: project.dir, env: { ...project.env, GITWATCH_SHARD: 'garbage' } });
    assert.equal(both.code, 0, both.stderr);
  });
});
