import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon, type Daemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** Connections to the control socket that send nothing; each counts when the daemon closes it. */
function idleClients(t: TestContext, file: string, n: number): { closed(): number } {
  let closed = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const socket = connect(file);
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
    socket.resume();
    sockets.push(socket);
  }
  t.after(() => sockets.forEach((s) => s.destroy()));
  return { closed: () => closed };
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function oneRepo(t: TestContext, interval = '1s'): Promise<{ remote: TestRepo; project: Project; ran: (sha: string) => Promise<boolean> }> {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval, pipeline: [RECORD_STEP] } } });
  const ran = async (sha: string): Promise<boolean> => (await project.record()).some((l) => l.startsWith(`site ${sha} `));
  return { remote, project, ran };
}

async function stop(daemon: Daemon): Promise<void> {
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.stderr());
}

describe('control socket limits', () => {
  test('out of file descriptors: the check fails with the reason, the daemon runs on, idle control connections are closed', async (t) => {
    const { remote, project, ran } = await oneRepo(t);
    const daemon = startDaemon(t, project, [], { fdLimit: 64 });
    await daemon.until(() => ran(remote.head()), 'the first run');
    const clients = idleClients(t, `${project.statePath}.sock`, 80);
    await daemon.until(() => openFds(daemon.pid) >= 60, 'the daemon to run out of file descriptors');
    const sha = await remote.commit();
    await daemon.until(
      () => /site ✖ check failed: .*too many open files in gitwatch \(EMFILE\)/.test(daemon.stdout()),
      'the check to fail for want of descriptors',
    );
    await daemon.until(() => clients.closed() === 80, 'the daemon to close the idle connections');
    await daemon.until(() => ran(sha), 'the commit to run once descriptors are free again', 30_000);
    await stop(daemon);
  });

  test('at most 64 connections: the oldest one that sent nothing makes room, and none waits more than 5 s for its request', async (t) => {
    const { remote, project, ran } = await oneRepo(t, '1h');
    const daemon = startDaemon(t, project);
    await daemon.until(() => ran(remote.head()), 'the first run');
    const clients = idleClients(t, `${project.statePath}.sock`, 100);
    await daemon.until(() => clients.closed() >= 36, 'the connections past the cap to be closed', 3000);
    // A command still gets through: it takes the place of an idle connection.
    const status = await project.cli('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^gitwatch running/);
    await daemon.until(() => clients.closed() === 100, 'idle connections to be dropped after 5 s', 10_000);
    await stop(daemon);
  });
});
