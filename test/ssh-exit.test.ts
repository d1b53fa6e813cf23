// Commands that reach an SSH remote start an OpenSSH master (src/git/ssh-master.ts). Whatever way such a
// command ends (its answer given, a signal, a master that never came up), it ends by itself and leaves
// neither a master nor the master's socket folder behind. Each gitwatch gets a TMPDIR of its own, so what it
// leaves there, and every process that names it, is seen.

import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon, startGitwatch, type Daemon } from './helpers/daemon.js';
import { freePort, TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { sshdMissing, startSshd, type Sshd } from './helpers/sshd.js';
import { tempDir } from './helpers/temp.js';

/** A command that does not end by itself within this long hangs. */
const ANSWER_MS = 20_000;
/** A signalled command stops what it waits for; this is time enough, and far less than a check's time limit. */
const STOP_MS = 5000;

interface Setup {
  readonly project: Project;
  readonly sshd: Sshd;
  readonly remote: TestRepo;
  /** The gitwatch processes' own TMPDIR. */
  readonly tmp: string;
  readonly root: string;
}

async function setup(t: TestContext): Promise<Setup> {
  const root = await tempDir(t);
  const remote = await TestRepo.create(path.join(root, 'site'));
  const sshd = await startSshd(t, path.join(root, 'sshd'));
  const project = await makeProject(t);
  const tmp = await tempDir(t, 'gitwatch-tmpdir-');
  project.env['TMPDIR'] = tmp;
  return { project, sshd, remote, tmp, root };
}

/** The control folders gitwatch made in `tmp`. */
async function controlFolders(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith('gitwatch-ssh-'));
}

/** Whether some master's socket is up in `tmp`. */
async function masterUp(tmp: string): Promise<boolean> {
  for (const folder of await controlFolders(tmp)) {
    for (const name of await readdir(path.join(tmp, folder)).catch(() => [] as string[])) {
      if ((await stat(path.join(tmp, folder, name)).catch(() => undefined))?.isSocket() === true) return true;
    }
  }
  return false;
}

/** Processes whose command line names `tmp`: a master's names its socket there (`ControlPath=`). */
async function processesNaming(tmp: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(tmp)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}

async function assertNothingLeft(tmp: string, what: string): Promise<void> {
  assert.deepEqual(await controlFolders(tmp), [], `${what} left its SSH control folder`);
  assert.deepEqual(await processesNaming(tmp), [], `${what} left an SSH master running`);
}

/** A TCP port that accepts and then says nothing, as a stalled SSH server does. */
async function stalledServer(t: TestContext): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, connections: () => count };
}

/** Resolves with the exit code, or 'still running' once `ms` have passed. */
async function exitWithin(run: Daemon, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function output(run: Daemon): string {
  return `\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}`;
}

describe('commands that reach an SSH remote end by themselves', () => {
  test('plan, once and trigger give their answer, exit, and leave no master or control folder', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const { project, sshd, remote, tmp } = await setup(t);
    await project.writeConfig({
      version: 1,
      defaults: { ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts },
      repos: { site: { url: sshd.url(remote.dir), pipeline: [RECORD_STEP] } },
    });
    const head = remote.head();
    const cases: [args: string[], answer: RegExp][] = [
      [['plan'], new RegExp(`^site\\s+run\\s+${head.slice(0, 7)}`, 'm')],
      [['plan', '--json'], /"decision": "run"/],
      [['once'], /site/],
      [['trigger', 'site'], /site/],
      [['plan'], /^site\s+up to date/m],
    ];
    for (const [args, answer] of cases) {
      const run = startGitwatch(t, project, args);
      const code = await exitWithin(run, ANSWER_MS);
      assert.equal(code, 0, `gitwatch ${args.join(' ')}: ${code}${output(run)}`);
      assert.match(run.stdout(), answer, `gitwatch ${args.join(' ')}${output(run)}`);
      await assertNothingLeft(tmp, `gitwatch ${args.join(' ')}`);
    }
    assert.equal((await project.record()).length, 2, 'once and trigger each ran the pipeline');
  });

  test('SIGTERM ends plan, once and trigger promptly while a check waits on an SSH remote', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const { project, sshd, remote, tmp } = await setup(t);
    const stalled = await stalledServer(t);
    await project.writeConfig({
      version: 1,
      defaults: { ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts, git_timeout: '2m' },
      repos: {
        live: { url: sshd.url(remote.dir), pipeline: [RECORD_STEP] },
        stalled: { url: `ssh://nobody@127.0.0.1:${stalled.port}/site.git`, pipeline: [RECORD_STEP] },
      },
    });
    for (const args of [['plan'], ['once'], ['trigger', 'live', 'stalled']]) {
      const before = stalled.connections();
      const run = startGitwatch(t, project, args);
      // A master is up for `live`, and `stalled` waits for an answer that never comes.
      await run.until(async () => stalled.connections() > before && (await masterUp(tmp)), 'a live master and a stalled check');
      const signalled = Date.now();
      run.child.kill('SIGTERM');
      const code = await exitWithin(run, STOP_MS);
      t.diagnostic(`gitwatch ${args.join(' ')} exited ${Date.now() - signalled} ms after SIGTERM`);
      assert.equal(code, 1, `gitwatch ${args.join(' ')} after SIGTERM: ${code}${output(run)}`);
      await assertNothingLeft(tmp, `gitwatch ${args.join(' ')} after SIGTERM`);
    }
  });

  test('a master that cannot start leaves no control folder, in plan, once and the daemon', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const { project, sshd, remote, tmp, root } = await setup(t);
    const emptyKnownHosts = path.join(root, 'empty_known_hosts');
    await writeFile(emptyKnownHosts, '');
    const closed = await freePort();
    await project.writeConfig({
      version: 1,
      defaults: { ssh_key: sshd.clientKey, interval: '1h' },
      repos: {
        // The server's host key is not known: the master is refused before it logs in.
        unknown: { url: sshd.url(remote.dir), known_hosts: emptyKnownHosts, pipeline: [RECORD_STEP] },
        // Nothing listens there.
        closed: { url: `ssh://nobody@127.0.0.1:${closed}/site.git`, known_hosts: sshd.knownHosts, pipeline: [RECORD_STEP] },
      },
    });
    for (const args of [['plan'], ['once']]) {
      const run = startGitwatch(t, project, args);
      const code = await exitWithin(run, ANSWER_MS);
      assert.equal(code, 1, `gitwatch ${args.join(' ')}: ${code}${output(run)}`);
      assert.match(run.stdout(), /unknown.*check failed.*host key/s, `gitwatch ${args.join(' ')}${output(run)}`);
      await assertNothingLeft(tmp, `gitwatch ${args.join(' ')}`);
    }

    // A daemon goes on after a master failed to start: the master's folder must not wait for its exit.
    const daemon = startDaemon(t, project);
    await daemon.until(() => /unknown ✖ check failed/.test(daemon.stdout()) && /closed ✖ check failed/.test(daemon.stdout()), 'both checks to fail');
    await assertNothingLeft(tmp, 'a running daemon whose masters failed to start');
    daemon.child.kill('SIGTERM');
    assert.equal(await exitWithin(daemon, STOP_MS), 0, output(daemon));
    await assertNothingLeft(tmp, 'the daemon');
  });
});
