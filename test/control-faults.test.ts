// Control commands on an operator's bad day, through the real daemon: a state file the daemon cannot
// write, and a config file that stopped being valid while the daemon runs the old one.

import assert from 'node:assert/strict';
import { mkdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

describe('control commands when something is broken', () => {
  test('pause against a daemon that cannot write its state says why, as the state error it is', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.state()).repos['site']?.commit === remote.head(), 'the first run recorded');
    // The daemon writes the state through `<state>.<its pid>.tmp`: a folder there makes the write fail (EISDIR, as root too).
    const blocker = `${project.statePath}.${daemon.pid}.tmp`;
    await mkdir(blocker);
    const paused = await project.cli('pause', 'site');
    assert.equal(paused.code, 1, paused.stdout + paused.stderr);
    assert.doesNotMatch(paused.stderr, /internal error|this is a bug|\n\s+at /);
    assert.ok(paused.stderr.startsWith(`gitwatch: cannot write state file ${project.statePath}: EISDIR`), paused.stderr);
    assert.equal(paused.stderr.split('\n').length, 2, 'one line');
    assert.equal(paused.stdout, '');
    assert.equal(((await project.state()).repos['site'] as { paused?: boolean }).paused, undefined);

    await rmdir(blocker);
    const again = await project.cli('pause', 'site');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(((await project.state()).repos['site'] as { paused?: boolean }).paused, true);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
