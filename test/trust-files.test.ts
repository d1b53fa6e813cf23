// gitwatch's own files against other users of the machine: folders only their owner can enter, whichever
// command made them; temporary files that follow no planted link; a control socket trusted only if it is
// the user's own.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
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

async function freshProject(t: TestContext): Promise<{ project: Project; remote: TestRepo }> {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
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
