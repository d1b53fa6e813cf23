// Guards that are easy to lose in a refactor, each tested so that removing it fails a test: the state
// replaced by rename (never written in place), the instance lock's "is that pid a gitwatch" check and its
// release of only its own pid file, and `--end-of-options` before every positional argument gitwatch gives git.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { GitError } from '../src/errors.js';
import { GitClient } from '../src/git/client.js';
import { acquireInstanceLock } from '../src/state/instance-lock.js';
import { readState, serializeState, writeState } from '../src/state/state-file.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { tempDir, testEnv, testProcesses } from './helpers/temp.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** A live process whose command line is `argv`; killed when the test ends. */
async function liveProcess(t: TestContext, argv: string[]): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...argv], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

describe('state file replacement', () => {
  test('a write replaces the file by rename: a reader holding the old file still sees it whole', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'state.json');
    await writeState(file, { version: 1, repos: { a: { commit: A } } }, process.pid);
    // A second name for the old file stands for a reader that opened it: an in-place write would change it.
    const reader = path.join(dir, 'reader.json');
    await link(file, reader);
    await writeState(file, { version: 1, repos: { a: { commit: B } } }, process.pid);
    assert.equal((await readState(reader)).repos['a']?.commit, A);
    assert.equal((await readState(file)).repos['a']?.commit, B);
  });

  test('a write whose temp file cannot be made fails and leaves the old file intact', async (t) => {
    const dir = await tempDir(t);
    // A name that fits, whose temp file's name (`<name>.<pid>-<random>.tmp`) does not: ENAMETOOLONG, as
    // root too (a read-only folder does not stop root, and the temp file's name cannot be known to plant
    // something there).
    const file = path.join(dir, `${'s'.repeat(240)}.json`);
    await writeFile(file, serializeState({ version: 1, repos: { a: { commit: A } } }));
    await assert.rejects(writeState(file, { version: 1, repos: { a: { commit: B } } }, process.pid), /cannot write state file.*ENAMETOOLONG/);
    assert.equal((await readState(file)).repos['a']?.commit, A);
  });
  test('a write the file system stops halfway (a full disk, a size limit) fails and leaves the old file whole', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'state.json');
    await writeState(file, { version: 1, repos: { a: { commit: A } } }, process.pid);
    // A state of about 1 MB, written by a process whose files may not grow past 64 KiB: the write stops partway
    // with EFBIG (SIGXFSZ ignored, as a shell passes it on), as it would stop with ENOSPC on a full disk.
    const script = `
      const { writeState } = await import(${JSON.stringify(new URL('../src/state/state-file.js', import.meta.url).href)});
      const repos = {};
      for (let i = 0; i < 2000; i++) repos['repo-' + i] = { commit: ${JSON.stringify(B)}, url: 'file:///' + 'x'.repeat(400) };
      try { await writeState(${JSON.stringify(file)}, { version: 1, repos }, process.pid); console.log('written'); }
      catch (err) { console.log(err.message); }`;
    const result = spawnSync('bash', ['-c', 'trap "" XFSZ; ulimit -f 64; exec "$0" --input-type=module -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    assert.match(result.stdout, /cannot write state file .*EFBIG/, result.stderr);
    assert.equal((await readState(file)).repos['a']?.commit, A);
    assert.deepEqual(await readdir(dir), ['state.json'], 'a temp file was left behind');
  });
});

describe('instance lock holder check', () => {
  test('a live process that is not a gitwatch does not hold the lock', async (t) => {
    const state = path.join(await tempDir(t), 'state.json');
    const other = await liveProcess(t, ['not-the-watcher']);
    await writeFile(`${state}.pid`, `${other}\n`);
    const lock = await acquireInstanceLock(state, testProcesses());
    assert.equal((await readFile(`${state}.pid`, 'utf8')).trim(), String(process.pid));
    await lock.release();
  });

  test('release leaves a pid file that another gitwatch took over', async (t) => {
    const state = path.join(await tempDir(t), 'state.json');
    const lock = await acquireInstanceLock(state, testProcesses());
    // Taken over meanwhile (this one was thought dead): the file is now the other gitwatch's lock.
    const other = await liveProcess(t, ['gitwatch', 'run']);
    await writeFile(`${state}.pid`, `${other}\n`);
    assert.equal(await lock.release(), undefined);
    assert.equal((await readFile(`${state}.pid`, 'utf8')).trim(), String(other), "release removed the other gitwatch's lock");
    await assert.rejects(acquireInstanceLock(state, testProcesses()), new RegExp(`pid ${other}`));
  });

  test('a live gitwatch holds it, and the message names its pid', async (t) => {
    const state = path.join(await tempDir(t), 'state.json');
    const holder = await liveProcess(t, ['gitwatch', 'run']);
    await writeFile(`${state}.pid`, `${holder}\n`);
    await assert.rejects(acquireInstanceLock(state, testProcesses()), new RegExp(`locked by another running gitwatch \\(pid ${holder}\\)`));
    assert.equal((await readFile(`${state}.pid`, 'utf8')).trim(), String(holder));
  });
});

describe('git arguments', () => {
  test('a URL that looks like an option reaches git as a URL, never as an option', async (t) => {
    const dir = await tempDir(t);
    const source = await TestRepo.create(path.join(dir, 'source'));
    const git = new GitClient(testEnv(dir), testProcesses());
    const call = { timeoutMs: 30_000 };
    const store = path.join(dir, 'store.git');
    await git.ensureStore(store, call);
    const marker = path.join(dir, 'MARK');
    const hostile = { url: `--upload-pack=touch ${marker};` };
    // Without the marker git fails too (on the next argument, taken as the repository): what proves the
    // URL stayed a URL is that git looked for a repository by that name.
    const asRepository = (error: unknown): boolean => {
      assert.ok(error instanceof GitError, String(error));
      // git names it as the repository it will not open: a local path that starts with '-'.
      const named = [`strange pathname '${hostile.url}' blocked`, `'${hostile.url}' does not appear to be a git repository`];
      assert.ok(
        named.some((text) => error.stderr.includes(text)),
        `${error.message}\n${error.stderr}`,
      );
      return true;
    };
    await assert.rejects(git.lsRemote(store, hostile, undefined, call), asRepository);
    await assert.rejects(git.lsRemote(store, hostile, 'main', call), asRepository);
    await assert.rejects(git.fetch(store, hostile, source.head(), call), asRepository);
    assert.equal(existsSync(marker), false, 'git ran the upload-pack command from the URL');
    // The same client still works for a real remote.
    assert.equal((await git.lsRemote(store, { url: source.url }, 'main', call)).sha, source.head());
  });
});
