// A git command that is stopped (its time limit, or shutdown) takes everything it started with it. The
// remote is an SSH host that never answers: an `ssh` first in PATH that records its pid and its child's,
// then waits forever, like a connection to a host that stalls.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
import { makeProject, type Project } from './helpers/project.js';

/** Alive and not a zombie: an orphan's zombie waits for init to reap it, but runs nothing. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stalledSshProject(t: TestContext, gitTimeout: string): Promise<{ project: Project; pids: () => Promise<number[]> }> {
  // Registered before the temp folder's removal, which would take the pid file with it.
  let pids = async (): Promise<number[]> => Promise.resolve([]);
  t.after(async () => {
    for (const pid of await pids()) if (running(pid)) process.kill(pid, 'SIGKILL');
  });
  const project = await makeProject(t);
  const bin = path.join(project.dir, 'bin');
  const pidFile = path.join(project.dir, 'ssh-pids');
  await mkdir(bin);
  // gitwatch's own SSH master (`ssh -M`) fails at once, like one that cannot reach the host: git's ssh is the one under test.
  await writeFile(
    path.join(bin, 'ssh'),
    `#!/bin/sh\ncase " $* " in *" -M "*) exit 255;; esac\necho $$ >> '${pidFile}'\nsleep 300 &\necho $! >> '${pidFile}'\nwait\n`,
  );
  await chmod(path.join(bin, 'ssh'), 0o755);
  project.env['PATH'] = `${bin}:${project.env['PATH'] ?? '/usr/bin:/bin'}`;
  await project.writeConfig({ version: 1, repos: { site: { url: 'ssh://git@127.0.0.1/srv/site.git', git_timeout: gitTimeout, pipeline: ['true'] } } });
  pids = async (): Promise<number[]> =>
    (await readFile(pidFile, 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  return { project, pids };
}

describe('git process groups', () => {
  test('a git timeout kills the whole group: no ssh is left behind', async (t) => {
    const { project, pids } = await stalledSshProject(t, '1s');
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /timed out after 1s/);
    const started = await pids();
    assert.equal(started.length, 2, `the fake ssh did not start: ${started.join(' ')}`);
    assert.deepEqual(
      started.filter((pid) => running(pid)),
      [],
      'processes of the timed-out git outlived gitwatch',
    );
  });

  test('SIGTERM during a stalled git command kills the whole group, and the daemon exits 0', async (t) => {
    const { project, pids } = await stalledSshProject(t, '5m');
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await pids()).length === 2, 'the ssh to start');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0, daemon.stderr());
    assert.deepEqual(
      (await pids()).filter((pid) => running(pid)),
      [],
      'processes of the stopped git outlived gitwatch',
    );
  });
});
