import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { runCli } from './helpers/cli.js';
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

/** Sends `line` on a new connection and collects everything the daemon answers until it closes. */
function exchange(file: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(file);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
    socket.write(`${line}\n`);
  });
}

/** A socket at `file` that answers any connection with `answer`, as a broken or hostile daemon would. */
async function fakeDaemon(t: TestContext, file: string, answer: (socket: Socket) => void): Promise<void> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => answer(socket));
  });
  await new Promise<void>((resolve) => server.listen(file, resolve));
  await chmod(file, 0o600);
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  // A client that is stopped leaves its connection behind: `close` waits for none of them.
  t.after(() => void server.unref());
}

/** Sockets among the daemon's descriptors. */
function openSockets(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
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

    // A request that trickles in a byte at a time gets no more time than one that never comes.
    const trickle = connect(`${project.statePath}.sock`);
    trickle.on('error', () => undefined);
    const opened = Date.now();
    const drip = setInterval(() => trickle.write(' '), 500);
    t.after(() => {
      clearInterval(drip);
      trickle.destroy();
    });
    let limit: NodeJS.Timeout | undefined;
    const kept = await Promise.race([
      new Promise<number>((resolve) => trickle.once('close', () => resolve(Date.now() - opened))),
      new Promise<number>((resolve) => (limit = setTimeout(() => resolve(Infinity), 10_000))),
    ]);
    clearTimeout(limit);
    clearInterval(drip);
    assert.ok(kept < 7000, `a trickling request kept its connection ${kept} ms`);
    await stop(daemon);
  });

  test('a request that is not one gets a clear error, not silence or a TypeError', async (t) => {
    const { remote, project, ran } = await oneRepo(t, '1h');
    const daemon = startDaemon(t, project);
    await daemon.until(() => ran(remote.head()), 'the first run');
    const sock = `${project.statePath}.sock`;
    const cases: [string, RegExp][] = [
      ['{"op":"explode"}', /^unknown request 'explode' \(known: status, trigger, pause, resume, cancel, rollback, unpin\)$/],
      ['[]', /^not a gitwatch control request: a JSON object with an "op" is$/],
      ['{}', /^not a gitwatch control request: a JSON object with an "op" is$/],
      ['"status"', /^not a gitwatch control request: a JSON object with an "op" is$/],
      ['{"op":"trigger","repos":"site","wait":false}', /^trigger: "repos" must be a list of repo names$/],
      ['{"op":"trigger","repos":["site"],"wait":"yes"}', /^trigger: "wait" must be true or false$/],
      ['{"op":"pause","repos":[1]}', /^pause: "repos" must be a list of repo names$/],
      ['{"op":"cancel","repo":{}}', /^cancel: "repo" must be a repo name$/],
    ];
    for (const [request, error] of cases) {
      const answer = await exchange(sock, request);
      assert.match(answer, /\n$/, `one line for ${request}`);
      const reply = JSON.parse(answer) as { ok: boolean; error: string; usage: boolean };
      assert.equal(reply.ok, false, request);
      assert.equal(reply.usage, true, request);
      assert.match(reply.error, error, request);
    }
    // The daemon is none the worse for it.
    assert.equal((await project.cli('status')).code, 0);
    await stop(daemon);
  });

  test('a client that never reads its answer is dropped after 10 s, holds nothing of the daemon after, and holds up no shutdown', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    // Many disabled repos make a status answer larger than a socket's buffers.
    const repos: Record<string, unknown> = { site: { url: remote.url, interval: '1h', pipeline: ['true'] } };
    for (let i = 0; i < 2000; i++) repos[`disabled-${i}`] = { url: remote.url, enabled: false, pipeline: ['true'] };
    const project = await makeProject(t, { version: 1, repos });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.state()).repos['site']?.lastRun?.status === 'succeeded', 'the first run');
    const before = openSockets(daemon.pid);
    const sockets: Socket[] = [];
    t.after(() => sockets.forEach((s) => s.destroy()));
    for (let i = 0; i < 20; i++) {
      const socket = connect(`${project.statePath}.sock`);
      socket.on('error', () => undefined);
      socket.write('{"op":"status"}\n');
      sockets.push(socket);
    }
    await daemon.until(() => openSockets(daemon.pid) >= before + 20, 'the daemon to serve the readers that never read');
    await daemon.until(() => openSockets(daemon.pid) <= before, 'the daemon to drop them', 20_000);
    assert.equal((await project.cli('status')).code, 0);
    // Neither kind holds up a shutdown.
    for (let i = 0; i < 20; i++) {
      const socket = connect(`${project.statePath}.sock`);
      socket.on('error', () => undefined);
      if (i % 2 === 0) socket.write('{"op":"status"}\n');
      sockets.push(socket);
    }
    await daemon.until(() => openSockets(daemon.pid) >= before + 20, 'the daemon to take the new connections');
    const stopping = Date.now();
    await stop(daemon);
    assert.ok(Date.now() - stopping < 4000, `shutdown took ${Date.now() - stopping} ms`);
  });

  test('the client gives up on an answer that never ends: over 32 MiB without a line end', async (t) => {
    const project = await makeProject(t, { version: 1, repos: {} });
    const sock = `${project.statePath}.sock`;
    const huge = Buffer.alloc(1024 * 1024, 'x');
    await fakeDaemon(t, sock, (socket) => {
      const more = (): void => {
        while (!socket.destroyed && socket.write(huge));
      };
      socket.on('drain', more);
      more();
    });
    const started = Date.now();
    const endless = await runCli(['status'], { cwd: project.dir, env: project.env, timeoutMs: 30_000 });
    assert.equal(endless.code, 2, endless.stderr);
    assert.match(endless.stderr, /the daemon at .*\.sock sent an answer over 32 MiB/);
    assert.ok(Date.now() - started < 20_000);
  });

  test('the client gives up on a line that never ends within 10 s', async (t) => {
    const project = await makeProject(t, { version: 1, repos: {} });
    await fakeDaemon(t, `${project.statePath}.sock`, (socket) => socket.write('{"ok":true,"status":'));
    const unfinished = await runCli(['status'], { cwd: project.dir, env: project.env, timeoutMs: 30_000 });
    assert.equal(unfinished.code, 2, unfinished.stderr);
    assert.match(unfinished.stderr, /the daemon at .*\.sock did not finish its answer within 10 s/);
  });

  test('a removed control socket: commands say the daemon lost it; SIGHUP makes it again at once, a check every 5 s too', async (t) => {
    const { remote, project, ran } = await oneRepo(t, '1h');
    const daemon = startDaemon(t, project);
    await daemon.until(() => ran(remote.head()), 'the first run');
    const sock = `${project.statePath}.sock`;
    const answers = async (): Promise<boolean> => new RegExp(`^gitwatch running \\(pid ${daemon.pid},`).test((await project.cli('status')).stdout);
    // Stopped (SIGSTOP), the daemon cannot make its socket again while the commands run.
    process.kill(daemon.pid, 'SIGSTOP');
    try {
      await rm(sock);
      const lost = new RegExp(
        `the gitwatch daemon \\(pid ${daemon.pid}\\) on .* has lost its control socket .*\\.sock; it makes it again within 5 s, or at once on SIGHUP \\(kill -HUP ${daemon.pid}\\)`,
      );
      for (const args of [['status'], ['status', '--json'], ['cancel', 'site'], ['trigger', 'site'], ['pause', 'site']]) {
        const result = await project.cli(...args);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
        assert.match(result.stderr, lost, args.join(' '));
      }
    } finally {
      process.kill(daemon.pid, 'SIGCONT');
    }
    await daemon.until(() => existsSync(sock), 'the socket after the next check', 8000);
    assert.match(daemon.stderr(), /gitwatch: the control socket .*\.sock was gone; made it again\n/);
    assert.ok(await answers());

    // Just after a check, the next one is 5 s away: a socket back within 2 s is SIGHUP's doing.
    await rm(sock);
    daemon.child.kill('SIGHUP');
    await daemon.until(() => existsSync(sock), 'the socket after SIGHUP', 2000);
    assert.ok(await answers());

    // Something else in its place is left alone, and said why; once it is gone, the socket comes back.
    await rm(sock);
    await mkdir(sock);
    await daemon.until(
      () => /gitwatch: cannot make the control socket .*\.sock again \(.*is a folder\)/.test(daemon.stderr()),
      'the daemon to say why it cannot make it',
    );
    await rm(sock, { recursive: true });
    await daemon.until(() => existsSync(sock), 'the socket once the folder is gone', 8000);
    assert.ok(await answers());
    await stop(daemon);
    assert.equal(existsSync(sock), false, 'the socket is removed at shutdown');
  });

  test('a once that holds the state has no socket, and status says nothing of a lost one', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const gate = path.join(root, 'release');
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: [`touch "$RECORD.started"; while [ ! -e '${gate}' ]; do sleep 0.05; done`] } },
    });
    const once = project.cli('once');
    const until = Date.now() + 15_000;
    while (!existsSync(`${project.env['RECORD']}.started`) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const status = await project.cli('status');
    await writeFile(gate, '');
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stderr, /lost its control socket/);
    assert.equal((await once).code, 0);
  });
});
