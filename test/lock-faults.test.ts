// The instance lock and signals at the edges: a pid file that is a folder, a pid file that cannot be
// removed at exit, and a SIGHUP that arrives while `run` is still starting.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { acquireInstanceLock, releaseLock } from '../src/state/instance-lock.js';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir, testProcesses } from './helpers/temp.js';

/** The signals `pid` catches, from /proc: bit n-1 is signal n. */
function catches(pid: number, signal: number): boolean {
  const mask = /SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
  return (BigInt(`0x${mask}`) >> BigInt(signal - 1)) % 2n === 1n;
}

describe('instance lock faults', () => {
  test('a pid file that is a folder is a clear state error (exit 2), and nothing is left behind', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['true'] } } });
    await mkdir(`${project.statePath}.pid`);
    const before = (await readdir(project.dir)).sort();
    const result = await project.cli('once');
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /\.gitwatch\.lock\.json\.pid is a folder, not a pid file; remove it/);
    assert.doesNotMatch(result.stderr, /this is a bug|ERR_FS/);
    assert.deepEqual((await readdir(project.dir)).sort(), before);
    assert.ok((await stat(`${project.statePath}.pid`)).isDirectory());
  });

  test('a pid file that cannot be removed at exit is a warning, not an error', async (t) => {
    const state = path.join(await tempDir(t), 'state.json');
    const lock = await acquireInstanceLock(state, testProcesses());
    const readOnly = (): Promise<void> => Promise.reject(Object.assign(new Error(`EROFS: read-only file system, unlink '${lock.file}'`), { code: 'EROFS' }));
    const warning = await releaseLock(lock.file, process.pid, readOnly);
    assert.match(warning ?? '', /cannot remove the pid file .*state\.json\.pid \(EROFS: read-only file system.*\); the next start takes it over/);
    assert.equal((await readFile(lock.file, 'utf8')).trim(), String(process.pid));
    assert.equal(await lock.release(), undefined);
    await assert.rejects(readFile(lock.file), /ENOENT/);
  });
});

describe('SIGHUP while run starts', () => {
  test('does not end it: the reload waits until the daemon is ready, then applies', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: ['true'] } } });
    // A state file that is a FIFO holds `run` before it is ready, for as long as the test wants:
    // reading it waits for a writer.
    execFileSync('mkfifo', [project.statePath]);
    const daemon = startDaemon(t, project);
    await daemon.until(() => catches(daemon.pid, 1), 'SIGHUP to be caught', 10_000);
    daemon.child.kill('SIGHUP');
    await writeFile(project.statePath, '{"version": 1, "repos": {}}\n');
    await daemon.until(() => /config reloaded/.test(daemon.stdout()), 'the queued reload');
    assert.match(daemon.stdout(), /gitwatch running[^]*config reloaded/);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0, daemon.stderr());
  });
});
