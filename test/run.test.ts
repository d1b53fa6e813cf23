import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { startDaemon, isAlive } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

const ran = (lines: string[], repo: string, sha: string): boolean => lines.some((l) => l.startsWith(`${repo} ${sha} `));

describe('gitwatch run', () => {
  test('runs a new commit within one interval', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1s', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => ran(await project.record(), 'site', remote.head()), 'the first run');
    const sha = await remote.commit();
    // The interval is 1 s; the bound is generous so a loaded 2-core machine does not flake, and still far
    // below what a daemon that missed the commit (or waited a whole backoff) would take.
    await daemon.until(async () => (await project.state()).repos['site']?.commit === sha, 'the new commit in the state', 15_000);
    assert.ok(ran(await project.record(), 'site', sha));
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.equal((await project.state()).repos['site']?.commit, sha);
  });

  test('a repo added while running starts, a removed one stops, an invalid edit keeps the old config', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const repoA = { url: a.url, interval: '1s', pipeline: [RECORD_STEP] };
    const repoB = { url: b.url, interval: '1s', pipeline: [RECORD_STEP] };
    const project = await makeProject(t, { version: 1, repos: { a: repoA } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => ran(await project.record(), 'a', a.head()), 'a runs');

    await project.writeConfig({ version: 1, repos: { a: repoA, b: repoB } });
    await daemon.until(async () => ran(await project.record(), 'b', b.head()), 'the added repo runs');
    assert.match(daemon.stdout(), /config reloaded: added b/);

    await project.writeConfig({ version: 1, repos: { b: repoB } });
    await daemon.until(() => /config reloaded: removed a/.test(daemon.stdout()), 'the removal');
    const shaA = await a.commit();

    // An invalid edit is reported like validate, and the running config goes on.
    await writeFile(project.configPath, 'version: 1\nrepos:\n  b:\n    url: x\n    interval: soon\n    pipeline: ["true"]\n');
    await daemon.until(() => /gitwatch\.yaml:5:15: expected a duration/.test(daemon.stderr()), 'the error');
    // stdout and stderr are two pipes: the notice on stdout may arrive a moment after the error.
    await daemon.until(() => /config rejected \(1 problem/.test(daemon.stdout()), 'the notice on stdout');
    const shaB = await b.commit();
    await daemon.until(async () => ran(await project.record(), 'b', shaB), 'b still runs under the old config');
    assert.equal(ran(await project.record(), 'a', shaA), false, 'the removed repo still ran');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('sees an editor that saves by renaming a new file over the config', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const project = await makeProject(t, { version: 1, repos: { a: { url: a.url, interval: '1h', pipeline: ['true'] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(() => /a ✔ succeeded/.test(daemon.stdout()), 'the first run');
    await writeFile(`${project.configPath}.swp`, stringify({ version: 1, repos: { a: { url: a.url, interval: '1h', pipeline: [RECORD_STEP] } } }));
    await rename(`${project.configPath}.swp`, project.configPath);
    await daemon.until(() => /config reloaded: changed a/.test(daemon.stdout()), 'the reload');
  });

  test('sees a Kubernetes ConfigMap update (a symlink through ..data, swapped atomically)', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const project = await makeProject(t);
    const mount = path.join(project.dir, 'config');
    const version = async (name: string, repos: Record<string, unknown>): Promise<void> => {
      await mkdir(path.join(mount, name), { recursive: true });
      await writeFile(path.join(mount, name, 'gitwatch.yaml'), stringify({ version: 1, state: '../.gitwatch.lock.json', workdir: '../.gitwatch', repos }));
    };
    await version('..2026_01', { a: { url: a.url, interval: '1s', pipeline: [RECORD_STEP] } });
    await symlink('..2026_01', path.join(mount, '..data'));
    await symlink('..data/gitwatch.yaml', path.join(mount, 'gitwatch.yaml'));
    const daemon = startDaemon(t, project, ['-c', 'config/gitwatch.yaml']);
    await daemon.until(async () => ran(await project.record(), 'a', a.head()), 'a runs');

    await version('..2026_02', { a: { url: a.url, interval: '1s', pipeline: [RECORD_STEP] }, b: { url: b.url, interval: '1s', pipeline: [RECORD_STEP] } });
    await symlink('..2026_02', path.join(mount, '..data_tmp'));
    await rename(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
    await rm(path.join(mount, '..2026_01'), { recursive: true });
    await daemon.until(async () => (await project.state()).repos['b']?.commit === b.head(), 'the swapped config', 15_000);
    assert.ok(/config reloaded: added b/.test(daemon.stdout()));
  });

  test('SIGHUP reloads', async (t) => {
    const a = await TestRepo.create(path.join(await tempDir(t), 'a'));
    const project = await makeProject(t, { version: 1, repos: { a: { url: a.url, interval: '1h', pipeline: ['true'] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(() => /a ✔ succeeded/.test(daemon.stdout()), 'the first run');
    daemon.child.kill('SIGHUP');
    await daemon.until(() => /config reloaded: no repo changed/.test(daemon.stdout()), 'the reload');
  });

  test('SIGTERM during a step exits 0 within the grace period, kills the step, records it interrupted', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: { url: remote.url, interval: '1s', pipeline: [{ name: 'deploy', run: 'echo $$ > "$RECORD.sh"; sleep 300 & echo $! > "$RECORD.bg"; wait' }] },
      },
    });
    const record = project.env['RECORD'] ?? '';
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await readFile(`${record}.bg`, 'utf8').catch(() => '')).trim() !== '', 'the step');
    const pids = [Number(await readFile(`${record}.sh`, 'utf8')), Number(await readFile(`${record}.bg`, 'utf8'))];
    const started = Date.now();
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.ok(Date.now() - started < 11_000);
    for (const pid of pids) assert.equal(isAlive(pid), false, `step process ${pid} is still running`);
    const state = await project.state();
    assert.equal(state.repos['site']?.lastRun?.status, 'interrupted');
    assert.equal(state.repos['site']?.commit, undefined);
  });

  test("a re-run says why it runs: a canceled first run triggered, an interrupted one run again, never 'first run'", async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    // Each start is recorded; the step then waits until the test creates `$RECORD.go`.
    const gated = 'echo started >> "$RECORD"; while [ ! -f "$RECORD.go" ] && [ -d "$HOME" ]; do sleep 0.05; done';
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: [gated] } } });
    const sha = remote.head().slice(0, 12);
    const daemon = startDaemon(t, project);
    const starts = (out: string): string[] => out.split('\n').filter((l) => l.startsWith(`site ▶ ${sha} on main `));
    await daemon.until(() => starts(daemon.stdout()).length === 1, 'the first run to start');
    assert.equal(starts(daemon.stdout())[0], `site ▶ ${sha} on main (first run)`);
    await daemon.until(async () => (await project.record()).length === 1, 'the step to start');
    assert.equal((await project.cli('cancel', 'site')).code, 0);
    await daemon.until(async () => (await project.state()).repos['site']?.lastRun?.error === 'canceled', 'the canceled run recorded');

    assert.equal((await project.cli('trigger', 'site')).code, 0);
    await daemon.until(() => starts(daemon.stdout()).length === 2, 'the triggered run to start');
    assert.equal(starts(daemon.stdout())[1], `site ▶ ${sha} on main (triggered)`);
    await daemon.until(async () => (await project.record()).length === 2, 'the step to start again');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'interrupted');

    await writeFile(`${project.env['RECORD']}.go`, '');
    const again = await project.cli('once');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(starts(again.stdout), [`site ▶ ${sha} on main (interrupted before; runs again)`]);
  });

  test('a second instance exits 2 naming the pid; after kill -9 the next start takes over and re-runs', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, interval: '1s', pipeline: ['echo x >> "$RECORD"; echo $$ >> "$RECORD.groups"; sleep 300'] } },
    });
    const first = startDaemon(t, project);
    await first.until(async () => (await project.record()).length === 1, 'the step');
    const second = startDaemon(t, project);
    assert.equal(await second.exited, 2);
    assert.match(second.stderr(), new RegExp(`locked by another running gitwatch \\(pid ${first.pid}\\)`));

    first.child.kill('SIGKILL');
    await first.exited;
    // No handler sees SIGKILL, yet the killed daemon's step (its `sleep 300`) must not outlive it.
    const [orphan] = (await readFile(`${project.env['RECORD']}.groups`, 'utf8')).trim().split('\n').map(Number);
    for (const end = Date.now() + 5000; groupAlive(orphan ?? 0) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.equal(groupAlive(orphan ?? 0), false, `the step of the killed daemon (group ${orphan}) still runs`);
    const third = startDaemon(t, project);
    // The pipeline that was cut off runs again: at least once, never silently skipped.
    await third.until(async () => (await project.record()).length === 2, 'the re-run');
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'interrupted');
  });
});
