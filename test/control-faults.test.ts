// Control commands on an operator's bad day, through the real daemon: a state file the daemon cannot
// write, and a config file that stopped being valid while the daemon runs the old one.

import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** `status --json` as a script reads it. */
async function statusOf(
  project: Project,
): Promise<{ daemon: { pid: number } | null; repos: { name: string; phase: string | null; step: string | null; paused: boolean }[] }> {
  const result = await project.cli('status', '--json');
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Awaited<ReturnType<typeof statusOf>>;
}

describe('control commands when something is broken', () => {
  test('while the config file has a typo, the daemon keeps its config and every control command still reaches it', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t);
    // An anchor hides `state` from the quick line scan: the YAML is read leniently, its errors ignored.
    const config = (extra: string): string =>
      `version: 1\nstate: &where run/gw.lock.json\nrepos:\n  site:\n    url: ${remote.url}\n    interval: 1h\n${extra}    pipeline:\n      - name: runaway\n        run: echo started; sleep 600\n`;
    await mkdir(path.join(project.dir, 'run'));
    await project.writeConfig(config(''));
    const statePath = path.join(project.dir, 'run', 'gw.lock.json');
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await statusOf(project)).repos[0]?.step === 'runaway', 'the runaway step');

    await project.writeConfig(config('    interval: 2h\n'));
    await daemon.until(() => /config rejected \(1 problem/.test(daemon.stdout()), 'the rejected edit');
    const validate = await project.cli('validate');
    assert.equal(validate.code, 2);
    assert.match(validate.stderr, /gitwatch\.yaml:7:5: .*unique/i);

    const status = await statusOf(project);
    assert.equal(status.daemon?.pid, daemon.pid);
    assert.equal(status.repos[0]?.phase, 'running');
    const logs = await project.cli('logs', 'site');
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^started$/m);
    const paused = await project.cli('pause', 'site');
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal((JSON.parse(await readFile(statePath, 'utf8')) as { repos: { site: { paused?: boolean } } }).repos.site.paused, true);
    const resumed = await project.cli('resume', 'site');
    assert.equal(resumed.code, 0, resumed.stderr);
    const unknown = await project.cli('cancel', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown repo 'nope' \(configured: site\)/);
    const canceled = await project.cli('cancel', 'site');
    assert.equal(canceled.code, 0, canceled.stderr);
    assert.match(canceled.stdout, /^site: canceled the running pipeline$/m);
    await daemon.until(async () => (await statusOf(project)).repos[0]?.phase === 'idle', 'the canceled run ends');
    const triggered = await project.cli('trigger', 'site');
    assert.equal(triggered.code, 0, triggered.stderr);
    await daemon.until(async () => (await statusOf(project)).repos[0]?.step === 'runaway', 'the triggered run');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);

    // No daemon: the command works on the state file alone, and that needs a valid config.
    const alone = await project.cli('pause', 'site');
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /gitwatch\.yaml:7:5: .*unique/i);
  });

  test("without the repos' ${VAR}s in the shell, commands reach the daemon that has them", async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const stateDir = await tempDir(t);
    const project = await makeProject(t, {
      version: 1,
      state: '${STATE_DIR}/gw.lock.json',
      repos: { site: { url: '${SITE_URL}', interval: '1h', pipeline: [RECORD_STEP] } },
    });
    const daemon = startDaemon(t, { ...project, env: { ...project.env, STATE_DIR: stateDir, SITE_URL: remote.url } });
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    // The operator's shell has what finds the daemon (`state`'s variable), not the repos' secrets.
    const cli = (...args: string[]): ReturnType<typeof runCli> => runCli(args, { cwd: project.dir, env: { ...project.env, STATE_DIR: stateDir } });

    const waited = await cli('trigger', '--wait', 'site');
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /^site succeeded$/m);
    assert.equal((await project.record()).length, 2);
    for (const command of ['pause', 'resume']) {
      const result = await cli(command, 'site');
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    }
    const cancel = await cli('cancel', 'site');
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /no pipeline is running/);
    const status = await cli('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^gitwatch running \\(pid ${daemon.pid},`));
    const logs = await cli('logs', 'site');
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^==> site run of [0-9a-f]{12} started \S+: succeeded$/m);

    // What `state` needs is needed to find the daemon: without it, the config's own error.
    const lost = await project.cli('pause', 'site');
    assert.equal(lost.code, 2);
    assert.match(lost.stderr, /STATE_DIR/);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    // Without a daemon, running the pipeline needs the repos' variables too, as `once` does.
    const alone = await cli('trigger', 'site');
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /SITE_URL/);
    assert.equal((await project.record()).length, 2);
  });

  test('a config file that is not YAML at all still leads to the daemon on the default state beside it', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    await writeFile(project.configPath, 'version: 1\nrepos: { site: [\n\t"broken\n');
    await daemon.until(() => /config rejected/.test(daemon.stdout()), 'the rejected edit');
    const status = await statusOf(project);
    assert.equal(status.daemon?.pid, daemon.pid);
    const waited = await project.cli('trigger', '--wait', 'site');
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((await project.record()).length, 2);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('pause against a daemon that cannot write its state says why, as the state error it is', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.state()).repos['site']?.commit === remote.head(), 'the first run recorded');
    // The daemon keeps the state in memory and writes it by renaming a new file over the old one: a folder
    // in the old one's place makes that rename fail (EISDIR, as root too).
    const saved = `${project.statePath}.saved`;
    await rename(project.statePath, saved);
    await mkdir(project.statePath);
    const paused = await project.cli('pause', 'site');
    assert.equal(paused.code, 1, paused.stdout + paused.stderr);
    assert.doesNotMatch(paused.stderr, /internal error|this is a bug|\n\s+at /);
    assert.ok(paused.stderr.startsWith(`gitwatch: cannot write state file ${project.statePath}: EISDIR`), paused.stderr);
    assert.equal(paused.stderr.split('\n').length, 2, 'one line');
    assert.equal(paused.stdout, '');
    await rmdir(project.statePath);
    await rename(saved, project.statePath);
    assert.equal(((await project.state()).repos['site'] as { paused?: boolean }).paused, undefined);

    const again = await project.cli('pause', 'site');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(((await project.state()).repos['site'] as { paused?: boolean }).paused, true);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
