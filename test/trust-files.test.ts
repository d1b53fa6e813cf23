// gitwatch's own files against other users of the machine: folders only their owner can enter, whichever
// command made them; temporary files that follow no planted link; a control socket trusted only if it is
// the user's own.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { createExclusive } from '../src/state/state-file.js';
import { startDaemon, startGitwatch } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const isRoot = process.getuid?.() === 0;

/**
 * The workdir, and every folder and file of gitwatch's own under it (git stores, run logs), that other users
 * could read, enter or write, with its mode. Checkouts are the user's (their files follow the umask).
 */
async function openToOthers(workdir: string): Promise<string[]> {
  const found: string[] = [];
  const check = async (file: string): Promise<void> => {
    const info = await lstat(file);
    if ((info.mode & 0o077) !== 0 && !info.isSymbolicLink()) found.push(`${path.relative(workdir, file) || '.'} ${(info.mode & 0o777).toString(8)}`);
  };
  await check(workdir);
  for (const own of ['.git-store', 'logs']) {
    const dir = path.join(workdir, own);
    if ((await lstat(dir).catch(() => undefined)) === undefined) continue;
    await check(dir);
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) await check(path.join(entry.parentPath, entry.name));
  }
  return found;
}

async function freshRemote(t: TestContext): Promise<TestRepo> {
  return TestRepo.create(path.join(await tempDir(t), 'site'));
}

async function freshProject(t: TestContext): Promise<{ project: Project; remote: TestRepo }> {
  const remote = await freshRemote(t);
  const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: ['true'] } } });
  // A project folder others may enter, as /srv/gitwatch usually is: only the workdir's own modes protect it.
  await chmod(project.dir, 0o755);
  return { project, remote };
}

describe("gitwatch's folders are its owner's only, whichever command made them", () => {
  const commands: Record<string, (t: TestContext, project: Project) => Promise<void>> = {
    run: async (t, project) => {
      const daemon = startDaemon(t, project);
      await daemon.until(async () => (await project.state()).repos['site']?.lastRun?.status === 'succeeded', 'the first run');
      daemon.child.kill('SIGTERM');
      assert.equal(await daemon.exited, 0);
    },
    once: async (_t, project) => assert.equal((await project.cli('once')).code, 0),
    trigger: async (_t, project) => assert.equal((await project.cli('trigger', 'site')).code, 0),
    plan: async (_t, project) => assert.equal((await project.cli('plan')).code, 0),
  };
  for (const [command, use] of Object.entries(commands)) {
    test(`${command} on a fresh workdir`, async (t) => {
      const { project, remote } = await freshProject(t);
      await use(t, project);
      const workdir = path.join(project.dir, '.gitwatch');
      if (isRoot && command !== 'plan') {
        // Another user tries to read a commit from the store, as the review did.
        const store = path.join(workdir, '.git-store', 'site.git');
        const asNobody = (): string =>
          execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'git', `--git-dir=${store}`, 'cat-file', '-p', remote.head()], {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
          }).toString();
        assert.throws(asNobody, 'another user read a commit from the store');
      }
      assert.deepEqual(await openToOthers(workdir), [], `${command} left these open to other users`);
    });
  }
});

describe('a state folder that others can write to', () => {
  test('a link planted at the temporary name of a state write is not followed', async (t) => {
    const { project } = await freshProject(t);
    const [started, gate] = [path.join(project.dir, 'started'), path.join(project.dir, 'gate')];
    const step = `touch ${started}; while [ ! -e ${gate} ]; do sleep 0.05; done`;
    await project.writeConfig({ version: 1, repos: { site: { url: (await freshRemote(t)).url, pipeline: [step] } } });
    const victim = path.join(await tempDir(t), 'victim.txt');
    await writeFile(victim, 'not yours\n');
    const once = startGitwatch(t, project, ['once']);
    await once.until(async () => (await lstat(started).catch(() => undefined)) !== undefined, 'the step to start');
    // The name a state write used to take (`<state>.<pid>.tmp`), planted while the step runs.
    await symlink(victim, `${project.statePath}.${once.pid}.tmp`);
    await writeFile(gate, '');
    assert.equal(await once.exited, 0, once.stdout() + once.stderr());
    assert.equal(await readFile(victim, 'utf8'), 'not yours\n', 'the state write followed the link');
    assert.ok((await lstat(project.statePath)).isFile(), 'the state file is a link');
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'succeeded');
  });

  test('a temporary file is created exclusively: a link at its name stops the write', async (t) => {
    const dir = await tempDir(t);
    const victim = path.join(dir, 'victim.txt');
    await writeFile(victim, 'not yours\n');
    await symlink(victim, path.join(dir, 'state.tmp'));
    await assert.rejects(createExclusive(path.join(dir, 'state.tmp')), /EEXIST/);
    assert.equal(await readFile(victim, 'utf8'), 'not yours\n');
  });

  test('a control socket that belongs to another user is refused', async (t) => {
    if (!isRoot) return t.skip('needs root to give the socket to another user');
    const { project } = await freshProject(t);
    const fake = {
      ok: true,
      status: { daemon: { pid: 1, startedAt: new Date().toISOString(), config: '/fake' }, repos: [] },
      accepted: ['site'],
    };
    const asked: string[] = [];
    const server = createServer((socket) =>
      socket.once('data', (d) => {
        asked.push(d.toString().trim());
        socket.end(`${JSON.stringify(fake)}\n`);
      }),
    );
    const socketFile = `${project.statePath}.sock`;
    await new Promise<void>((resolve) => server.listen(socketFile, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await chown(socketFile, 65534, 65534);
    for (const command of [['status'], ['pause', 'site'], ['trigger', 'site']]) {
      const result = await project.cli(...command);
      assert.equal(result.code, 2, `${command.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /refusing the control socket .*\.sock: it belongs to uid 65534, not to this user \(uid 0\)/);
    }
    assert.deepEqual(asked, [], 'a command talked to the socket');
    assert.equal(existsSync(project.statePath), false, 'a command ran without the daemon it thought it asked');
  });

  test('is said at start, unless it has the sticky bit', async (t) => {
    const { project } = await freshProject(t);
    await chmod(project.dir, 0o777);
    const open = await project.cli('once');
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stderr, /warning: the state's folder .* is writable by other users \(mode 0777\) without the sticky bit/);
    await chmod(project.dir, 0o1777);
    const sticky = await project.cli('once');
    assert.equal(sticky.code, 0, sticky.stderr);
    assert.doesNotMatch(sticky.stderr, /writable by other users/);
  });
});
