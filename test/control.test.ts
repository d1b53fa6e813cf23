import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BIN } from './helpers/cli.js';
import { isAlive, startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** A step that waits until the test creates `file`: the test decides when it ends, no fixed sleeps. */
const waitFor = (dir: string, name: string): string => `while [ ! -e '${path.join(dir, name)}' ]; do sleep 0.05; done`;

/** A project watching one repo; `pipeline` gets a folder for the files its steps wait on. */
async function setup(t: import('node:test').TestContext, pipeline: (signals: string) => unknown[], interval = '1h') {
  const root = await tempDir(t);
  const remote = await TestRepo.create(path.join(root, 'site'));
  const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval, pipeline: pipeline(root) } } });
  const release = (name: string): Promise<void> => writeFile(path.join(root, name), '');
  return { remote, project, release };
}

async function statusJson(project: Project) {
  const result = await project.cli('status', '--json');
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as {
    daemon: { pid: number; startedAt: string; config: string } | null;
    repos: {
      name: string;
      phase: string | null;
      step: string | null;
      paused: boolean;
      nextCheckAt: string | null;
      lastRun: { status: string; error?: string } | null;
    }[];
  };
}

/** Every process, with its process group and command line. */
async function processes(): Promise<{ pid: number; pgid: number; cmdline: string }[]> {
  const found = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The command name in parentheses may hold spaces: fields count from the last ')'.
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (stat !== '') found.push({ pid: Number(pid), pgid, cmdline });
  }
  return found;
}

describe('control: status, trigger, pause, resume, cancel, logs', () => {
  test('status shows the running step and how long it runs; the socket is owner-only', async (t) => {
    const { project, release } = await setup(t, (dir) => [
      { name: 'prepare', run: 'true' },
      { name: 'build', run: `echo started; ${waitFor(dir, 'release')}` },
    ]);
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await statusJson(project)).repos[0]?.step === 'build', 'the build step');
    const json = await statusJson(project);
    assert.equal(json.daemon?.pid, daemon.pid);
    assert.equal(json.daemon?.config, project.configPath);
    assert.deepEqual([json.repos[0]?.phase, json.repos[0]?.step], ['running', 'build']);
    const table = await project.cli('status');
    assert.match(table.stdout, new RegExp(`^gitwatch running \\(pid ${daemon.pid}, up \\d+s\\), config `));
    assert.match(table.stdout, /\nsite +\(default\) +- +running build \(\d+s\) +- +never/);
    assert.equal((await stat(`${project.statePath}.sock`)).mode & 0o777, 0o600);

    await release('release');
    await daemon.until(async () => (await statusJson(project)).repos[0]?.phase === 'idle', 'idle again');
    const idle = await statusJson(project);
    assert.equal(idle.repos[0]?.lastRun?.status, 'succeeded');
    assert.ok(Date.parse(idle.repos[0]?.nextCheckAt ?? '') > Date.now() + 50 * 60_000, 'the next check is an hour away');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.equal(existsSync(`${project.statePath}.sock`), false, 'the socket is removed on shutdown');
    const after = await statusJson(project);
    assert.equal(after.daemon, null);
    assert.equal(after.repos[0]?.phase, null);
  });

  test('trigger runs without a new commit; --wait exits with the run result', async (t) => {
    const { remote, project } = await setup(t, () => [RECORD_STEP]);
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    const accepted = await project.cli('trigger', 'site');
    assert.equal(accepted.code, 0, accepted.stderr);
    await daemon.until(async () => (await project.record()).length === 2, 'the triggered run');

    const ok = await project.cli('trigger', '--wait', 'site');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^site succeeded$/m);
    assert.equal((await project.record()).length, 3);

    // A changed pipeline applies from the next run; the head is up to date, so only a trigger runs it.
    await project.writeConfig({ version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: [RECORD_STEP, 'exit 3'] } } });
    await daemon.until(() => /config reloaded: changed site/.test(daemon.stdout()), 'the reload');
    const failed = await project.cli('trigger', '--wait', 'site');
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^site failed: step 'exit 3' exited with code 3$/m);

    const unknown = await project.cli('trigger', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown repo 'nope'/);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('trigger without a daemon runs the pipeline here, new commit or not', async (t) => {
    const { project } = await setup(t, () => [RECORD_STEP]);
    assert.equal((await project.cli('once')).code, 0);
    const result = await project.cli('trigger', 'site');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal((await project.record()).length, 2);
  });

  test('pause lasts across a restart and keeps new commits from running; resume checks at once', async (t) => {
    const { remote, project } = await setup(t, () => [RECORD_STEP], '1s');
    let daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    const paused = await project.cli('pause', 'site');
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(((await project.state()).repos['site'] as { paused?: boolean }).paused, true);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);

    const sha = await remote.commit();
    daemon = startDaemon(t, project);
    await daemon.until(async () => (await statusJson(project)).repos[0]?.phase === 'paused', 'paused after the restart');
    // Three intervals pass: a repo that is not paused would have run the new commit by now.
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal((await project.record()).length, 1, 'a paused repo ran');
    assert.match((await project.cli('status')).stdout, /\nsite .* paused /);

    const resumed = await project.cli('resume', 'site');
    assert.equal(resumed.code, 0, resumed.stderr);
    await daemon.until(async () => (await project.record()).some((l) => l.startsWith(`site ${sha} `)), 'the new commit runs after resume');
    assert.equal(((await project.state()).repos['site'] as { paused?: boolean }).paused, undefined);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('pause without a daemon is recorded in the state, and once skips the repo', async (t) => {
    const { remote, project } = await setup(t, () => [RECORD_STEP]);
    assert.equal((await project.cli('pause', 'site')).code, 0);
    await remote.commit();
    const once = await project.cli('once');
    assert.equal(once.code, 0, once.stdout + once.stderr);
    assert.match(once.stdout, /site · paused/);
    assert.equal((await project.record()).length, 0);
    assert.match((await project.cli('status')).stdout, /\nsite +\(default\) +- +never +paused\n/);
    assert.equal((await project.cli('resume', 'site')).code, 0);
    assert.equal((await project.cli('once')).code, 0);
    assert.equal((await project.record()).length, 1);
  });

  test('cancel stops a long step at once, leaves nothing of its process group, and the run fails as canceled', async (t) => {
    const marker = `gitwatch-cancel-${Date.now()}`;
    const { project } = await setup(t, () => [{ name: 'long', run: `sleep 600; echo ${marker}` }, 'echo never']);
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await statusJson(project)).repos[0]?.step === 'long', 'the long step');
    let group: number[] = [];
    await daemon.until(async () => {
      const all = await processes();
      const shell = all.find((p) => p.cmdline.includes(marker));
      group = all.filter((p) => p.pgid === shell?.pgid).map((p) => p.pid);
      return group.length >= 2;
    }, 'the step and its sleep');
    const started = Date.now();
    const result = await project.cli('cancel', 'site');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /site: canceled the running pipeline/);
    await daemon.until(async () => (await statusJson(project)).repos[0]?.lastRun?.error === 'canceled', 'the run recorded');
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const left = (await processes()).filter((p) => group.includes(p.pid));
    assert.deepEqual(left, [], 'something of the step survived');
    const { lastRun } = (await statusJson(project)).repos[0] ?? {};
    assert.equal(lastRun?.status, 'failed');

    const nothing = await project.cli('cancel', 'site');
    assert.equal(nothing.code, 0);
    assert.match(nothing.stdout, /no pipeline is running/);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    const without = await project.cli('cancel', 'site');
    assert.equal(without.code, 2);
    assert.match(without.stderr, /no gitwatch daemon runs/);
  });

  test('logs prints the newest run; -f follows the lines of a running step as they come', async (t) => {
    const { project, release } = await setup(t, (dir) => [
      { name: 'talk', run: `echo first line; ${waitFor(dir, 'next')}; echo second line; ${waitFor(dir, 'end')}` },
    ]);
    assert.match((await project.cli('logs', 'site')).stdout, /^site: no runs yet$/m);
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await statusJson(project)).repos[0]?.step === 'talk', 'the step');
    const follower = spawn(process.execPath, [BIN, 'logs', '-f', 'site'], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => follower.kill('SIGKILL'));
    let seen = '';
    follower.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    await daemon.until(() => /^first line$/m.test(seen), 'the first line in logs -f');
    assert.match(seen, /^==> site run of [0-9a-f]{12} started \S+: running or unfinished\n==> talk/);
    assert.doesNotMatch(seen, /^second line$/m);
    await release('next');
    await daemon.until(() => /^second line$/m.test(seen), 'the second line, while the step still runs');
    assert.equal((await statusJson(project)).repos[0]?.step, 'talk');
    await release('end');
    await daemon.until(() => /<== talk: succeeded/.test(seen), 'the end of the step');
    follower.kill('SIGINT');
    await new Promise((r) => follower.once('exit', r));
    const printed = await project.cli('logs', 'site');
    assert.match(printed.stdout, /^==> site run of [0-9a-f]{12} started \S+: succeeded\n==> talk[^\n]*\nfirst line\nsecond line\n<== talk: succeeded\n$/);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('a socket left by a killed daemon is not a daemon; one that never answers fails in 2 s', async (t) => {
    const { project } = await setup(t, () => [RECORD_STEP]);
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    assert.equal(isAlive(daemon.pid), false);
    assert.ok(existsSync(`${project.statePath}.sock`), 'kill -9 leaves the socket file');
    const fallback = await statusJson(project);
    assert.equal(fallback.daemon, null);
    assert.equal((await project.cli('pause', 'site')).code, 0, 'pause works on the state file');

    // A new daemon replaces the stale socket.
    const next = startDaemon(t, project);
    await next.until(async () => (await statusJson(project)).daemon?.pid === next.pid, 'the new daemon answers');
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0);

    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(`${project.statePath}.sock`, resolve));
    t.after(() => silent.close());
    const started = Date.now();
    const hung = await project.cli('status');
    assert.equal(hung.code, 2);
    assert.match(hung.stderr, /did not answer within 2 s/);
    assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
  });
});
