// `trigger --wait` through the real daemon: it exits with what happened to every run it waited for (0 only
// when all succeeded), and it answers when a check fails instead of waiting for the remote to come back.

import assert from 'node:assert/strict';
import { access, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli, type CliResult } from './helpers/cli.js';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const ANSWER_MS = 15_000;

describe('trigger --wait', () => {
  test('exits 1 when any run it waited for failed or was interrupted, and 1 at once when a check fails', async (t) => {
    const root = await tempDir(t);
    const ok = await TestRepo.create(path.join(root, 'ok'));
    const bad = await TestRepo.create(path.join(root, 'bad'));
    const glob = await TestRepo.create(path.join(root, 'glob'));
    glob.git('branch', 'other');
    const slow = await TestRepo.create(path.join(root, 'slow'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        ok: { url: ok.url, interval: '1h', pipeline: [RECORD_STEP] },
        bad: { url: bad.url, interval: '1h', pipeline: [RECORD_STEP, 'exit 3'] },
        // Two targets: main succeeds, other fails. Waiting for the repo waits for both.
        glob: { url: glob.url, branch: '*', interval: '1h', pipeline: [RECORD_STEP, 'test "$GITWATCH_BRANCH" != other'] },
        // Blocks once the test creates `block`, until the daemon stops it.
        slow: { url: slow.url, interval: '1h', pipeline: [`if [ -e '${root}/block' ]; then touch '${root}/started'; sleep 60; fi`] },
      },
    });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => {
      const { repos } = await project.state();
      return ['ok', 'bad', 'glob@main', 'glob@other', 'slow'].every((name) => repos[name]?.lastRun !== undefined);
    }, 'every first run');
    const wait = async (...names: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> => {
      const started = Date.now();
      const result = await runWait(project.dir, project.env, names);
      return { ...result, ms: Date.now() - started };
    };

    const good = await wait('ok');
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.equal(good.stdout, 'ok succeeded\n');
    const mixed = await wait('ok', 'bad');
    assert.equal(mixed.code, 1, mixed.stdout + mixed.stderr);
    assert.match(mixed.stdout, /^ok succeeded$/m);
    assert.match(mixed.stdout, /^bad failed: step 'exit 3' exited with code 3$/m);
    const targets = await wait('glob');
    assert.equal(targets.code, 1, targets.stdout + targets.stderr);
    assert.match(targets.stdout, /^glob failed: /m);

    // A remote that is gone: the check fails, and whoever waits hears it now.
    await rename(ok.dir, `${ok.dir}.gone`);
    const lost = await wait('ok');
    assert.equal(lost.code, 1, lost.stdout + lost.stderr);
    assert.match(lost.stdout, /^ok check-failed: /m);
    assert.ok(lost.ms < ANSWER_MS, `answered after ${lost.ms} ms`);
    await rename(glob.dir, `${glob.dir}.gone`);
    const lostGlob = await wait('glob');
    assert.equal(lostGlob.code, 1, lostGlob.stdout + lostGlob.stderr);
    assert.match(lostGlob.stdout, /^glob check-failed: /m);

    // Interrupted by the daemon's shutdown: not a success either.
    await writeFile(path.join(root, 'block'), '');
    const waiting = runWait(project.dir, project.env, ['slow']);
    await daemon.until(async () => (await project.state()).repos['slow'] !== undefined && (await exists(path.join(root, 'started'))), 'the slow step');
    daemon.child.kill('SIGTERM');
    const interrupted = await waiting;
    assert.equal(interrupted.code, 1, interrupted.stdout + interrupted.stderr);
    assert.match(interrupted.stdout, /^slow interrupted/m);
    assert.equal(await daemon.exited, 0);
  });
});

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** `gitwatch trigger --wait NAMES`, failing the test when it does not answer in time. */
function runWait(cwd: string, env: Record<string, string>, names: readonly string[]): Promise<CliResult> {
  return runCli(['trigger', '--wait', ...names], { cwd, env, timeoutMs: ANSWER_MS });
}
