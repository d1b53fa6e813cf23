// `gitwatch plan`: one repo of each kind of decision, named right, with nothing changed on disk, while a
// daemon holds the state.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** Every file under `dir` with a hash of its bytes, except gitwatch's private git stores. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (folder: string): Promise<void> => {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const file = path.join(folder, name);
      if (name === '.git-store') continue;
      // The daemon's control socket (and the private folder it is made in) is not a file to compare.
      const info = await stat(file).catch(() => undefined);
      if (info?.isDirectory() === true) await walk(file);
      else if (info?.isFile() === true)
        out[path.relative(dir, file)] = createHash('sha256')
          .update(await readFile(file))
          .digest('hex');
    }
  };
  await walk(dir);
  return out;
}

/**
 * Every ref of every private git store under `workdir`, as `store ref` → SHA, but for plan's own ref and the
 * scratch refs a comparison in a shallow store fetches: the refs a checkout is built from must stay put.
 */
function storeRefs(workdir: string, env: Record<string, string>): Record<string, string> {
  const root = path.join(workdir, '.git-store');
  const out: Record<string, string> = {};
  for (const store of readdirSync(root)) {
    const listing = execFileSync('git', [`--git-dir=${path.join(root, store)}`, 'for-each-ref', '--format=%(refname) %(objectname)'], {
      env,
      encoding: 'utf8',
    });
    for (const line of listing.split('\n').filter((l) => l !== '')) {
      const [ref = '', sha = ''] = line.split(' ');
      if (!/^refs\/gitwatch\/(plan|previous|deepen)$/.test(ref)) out[`${store} ${ref}`] = sha;
    }
  }
  return out;
}

interface PlanRow {
  name: string;
  decision: string;
  reason: string;
  commit: string | null;
  previousCommit: string | null;
  commits: number | null;
}

describe('plan', () => {
  test('names each kind of decision, changes nothing, and works while a daemon runs', async (t) => {
    const root = await tempDir(t);
    const make = (name: string): Promise<TestRepo> => TestRepo.create(path.join(root, name));
    const [fresh, ahead, pathsRepo, marked, current, failing] = await Promise.all(['fresh', 'ahead', 'paths', 'marked', 'current', 'failing'].map(make));
    assert.ok(fresh && ahead && pathsRepo && marked && current && failing);
    const repos: Record<string, unknown> = {
      ahead: { url: ahead.url, pipeline: ['true'] },
      paths: { url: pathsRepo.url, paths: ['web/**'], pipeline: ['true'] },
      marked: { url: marked.url, pipeline: ['true'] },
      current: { url: current.url, pipeline: ['true'] },
      failing: { url: failing.url, pipeline: ['exit 1'] },
    };
    const project = await makeProject(t, { version: 1, repos });
    assert.equal((await project.cli('once')).code, 1);
    const before = { ahead: ahead.head() };
    for (let i = 0; i < 3; i++) await ahead.commit();
    await pathsRepo.commit({ 'api/x.go': 'package x\n' }, 'api');
    await marked.commit({ 'a.txt': 'a\n' }, 'docs [skip ci]');
    await project.writeConfig({
      version: 1,
      repos: { ...repos, fresh: { url: fresh.url, pipeline: ['true'] }, broken: { url: path.join(root, 'missing'), pipeline: ['true'] } },
    });

    // A daemon on the same state, watching only the repo that is up to date, holds the instance lock.
    const daemonConfig = path.join(project.dir, 'daemon.yaml');
    await writeFile(daemonConfig, stringify({ version: 1, state: '.gitwatch.lock.json', repos: { current: repos['current'] } }));
    const daemon = startDaemon(t, project, ['-c', daemonConfig]);
    await daemon.until(() => /current ✔ up to date/.test(daemon.stdout()), 'the daemon to check');
    await daemon.until(() => existsSync(`${project.statePath}.sock`), 'the control socket');

    const files = await snapshot(project.dir);
    const workdir = path.join(project.dir, '.gitwatch');
    const refs = storeRefs(workdir, project.env);
    assert.ok(
      Object.keys(refs).some((r) => r.startsWith('ahead.git refs/gitwatch/')),
      JSON.stringify(refs),
    );
    const result = await project.cli('plan', '--json');
    const text = await project.cli('plan');
    assert.deepEqual(await snapshot(project.dir), files);
    // The private stores too: plan fetched the heads it needed (the new commits of ahead), under its own ref.
    assert.deepEqual(storeRefs(workdir, project.env), refs);
    assert.equal(
      execFileSync('git', [`--git-dir=${path.join(workdir, '.git-store', 'ahead.git')}`, 'rev-parse', 'refs/gitwatch/plan'], {
        env: project.env,
        encoding: 'utf8',
      }).trim(),
      ahead.head(),
    );
    assert.equal(result.code, 1, result.stderr);
    const rows = (JSON.parse(result.stdout) as { repos: PlanRow[] }).repos;
    const by = (name: string): PlanRow => {
      const row = rows.find((r) => r.name === name);
      assert.ok(row, name);
      return row;
    };
    assert.deepEqual(
      rows.map((r) => [r.name, r.decision]),
      [
        ['ahead', 'run'],
        ['paths', 'skip'],
        ['marked', 'skip'],
        ['current', 'up to date'],
        ['failing', 'waits'],
        ['fresh', 'run'],
        ['broken', 'check failed'],
      ],
    );
    assert.equal(by('ahead').reason, `new commit ${before.ahead.slice(0, 12)} → ${ahead.head().slice(0, 12)} (3 commits)`);
    assert.equal(by('ahead').commits, 3);
    assert.equal(by('paths').reason, 'no changed file matches paths (1 file changed)');
    assert.equal(by('marked').reason, "the head commit's message has the skip marker '[skip ci]'");
    assert.equal(by('current').reason, `at ${current.head().slice(0, 12)}`);
    assert.match(by('failing').reason, /^failed before; waits for a new commit or 'gitwatch trigger failing'$/);
    assert.equal(by('fresh').reason, 'first run');
    assert.match(by('broken').reason, /missing/);
    assert.match(text.stdout, /^REPO\s+NEXT\s+HEAD\s+WHY$/m);
    assert.match(text.stdout, /^paths\s+skip\s+[0-9a-f]{12}\s+no changed file matches paths \(1 file changed\)$/m);
    assert.equal(text.code, 1);

    // The cycle agrees with the plan.
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    const once = await project.cli('once', 'ahead', 'paths', 'marked', 'fresh');
    assert.equal(once.code, 0, once.stdout + once.stderr);
    const state = await project.state();
    assert.equal(state.repos['paths']?.lastRun?.status, 'skipped');
    assert.equal(state.repos['marked']?.lastRun?.status, 'skipped');
    assert.equal(state.repos['ahead']?.lastRun?.status, 'succeeded');
  });

  test('a run in progress in a daemon is said as such: a first run with no lock entry yet, and a newer commit', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    // Each run records its commit, then holds while `$RECORD.hold` exists.
    const held = 'echo "$GITWATCH_COMMIT" >> "$RECORD"; while [ -f "$RECORD.hold" ] && [ -d "$HOME" ]; do sleep 0.05; done';
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: [held] } } });
    const hold = `${project.env['RECORD']}.hold`;
    const plan = async (): Promise<PlanRow> => {
      const result = await project.cli('plan', '--json');
      assert.equal(result.code, 0, result.stderr);
      const [row] = (JSON.parse(result.stdout) as { repos: PlanRow[] }).repos;
      assert.ok(row, result.stdout);
      return row;
    };
    const runningNow = /^running now \(started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)$/;
    await writeFile(hold, '');
    const daemon = startDaemon(t, project);
    const first = remote.head();
    await daemon.until(async () => (await project.record()).length === 1, 'the first run to start');
    assert.equal((await project.state().catch(() => undefined))?.repos['site'], undefined, 'the lock has no entry for a first run yet');
    const firstRow = await plan();
    assert.deepEqual([firstRow.decision, firstRow.commit, firstRow.previousCommit], ['run', first, null]);
    assert.match(firstRow.reason, runningNow);
    assert.match((await project.cli('plan')).stdout, new RegExp(`^site\\s+run\\s+${first.slice(0, 12)}\\s+running now \\(started `, 'm'));

    await rm(hold);
    await daemon.until(async () => (await project.state()).repos['site']?.commit === first, 'the first run to succeed');
    await writeFile(hold, '');
    const second = await remote.commit();
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    await daemon.until(async () => (await project.record()).length === 2, 'the newer commit to start');
    const secondRow = await plan();
    assert.deepEqual([secondRow.decision, secondRow.commit, secondRow.previousCommit], ['run', second, first]);
    assert.match(secondRow.reason, runningNow);

    // A head newer than the one running: the next cycle runs it, and the reason says what runs meanwhile.
    const third = await remote.commit();
    const thirdRow = await plan();
    assert.deepEqual([thirdRow.decision, thirdRow.commit, thirdRow.commits], ['run', third, 2]);
    assert.match(
      thirdRow.reason,
      new RegExp(`^new commit ${first.slice(0, 12)} → ${third.slice(0, 12)} \\(2 commits\\); ${second.slice(0, 12)} running now \\(started [^)]+\\)$`),
    );
    await rm(hold);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
