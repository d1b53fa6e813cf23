// Temp folders that tests remove when they end, and an environment isolated from the machine's git config.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ProcessGroups } from '../../src/runtime/processes.js';
import { reapProcesses } from './reap.js';

/** A folder removed when the test ends, after whatever still runs in it is killed (see reap.ts). */
export async function tempDir(t: TestContext, prefix = 'gitwatch-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(async () => {
    await reapProcesses(dir);
    // An in-process daemon a test started may write one more object while this runs (its own stop is a
    // later hook): rm tries again on ENOTEMPTY instead of failing the test on its cleanup.
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  return dir;
}

/** The environment for test git commands and for the gitwatch under test: no global or system git config. */
export function testEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('GIT_') && !k.startsWith('GITWATCH_') && k !== 'NO_COLOR' && k !== 'CI') env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    ...extra,
  };
}

/** This test process as gitwatch's process host: its pid, and the real `kill`. */
export function testProcesses(): ProcessGroups {
  return new ProcessGroups({ pid: process.pid, kill: (pid, signal) => process.kill(pid, signal) });
}

/**
 * A TMPDIR of the test's own for the code it runs in this process (os.tmpdir() reads it on every call), put
 * back when the test ends: what that code leaves in the temp folder is then the test's alone to count,
 * whatever other test files run at the same time.
 */
export async function ownTmpdir(t: TestContext): Promise<string> {
  const dir = await tempDir(t, 'gitwatch-tmpdir-');
  const before = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  t.after(() => {
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
  });
  return dir;
}
