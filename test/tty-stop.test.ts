// Ctrl-C on a terminal while a step ignores SIGTERM: gitwatch says at once what it waits for and for how
// long, `status` says it is stopping, and a second Ctrl-C kills every group, says what it killed and leaves
// a last screen (the interrupted run's summary after the stopping lines), not a frozen frame.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, type Project } from './helpers/project.js';
import { ptyUnavailable, signal, startInPty, type Screen } from './helpers/terminal.js';
import { tempDir } from './helpers/temp.js';

const skip = ptyUnavailable();

/** Ignores SIGTERM, shows that it runs, and runs until killed (or the test's folder goes). */
const STUBBORN = `trap '' TERM; echo $$ > "$RECORD.pgid"; echo "line 1"; echo "line 3 latest"; while [ -d "$HOME" ]; do sleep 0.05; done`;
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

async function stubbornProject(t: TestContext): Promise<Project> {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  return makeProject(t, {
    version: 1,
    repos: {
      site: {
        url: remote.url,
        pipeline: [
          { name: 'deploy', run: STUBBORN },
          { name: 'notify', run: 'true' },
        ],
      },
    },
  });
}

async function groupAlive(project: Project): Promise<boolean> {
  const pgid = Number.parseInt(await readFile(`${project.env['RECORD']}.pgid`, 'utf8'), 10);
  return pgid > 0 && signal(-pgid, 0);
}

/** Waits until the step's group is gone, allowing a moment for killed members to be reaped. */
async function groupGone(project: Project, withinMs = 2000): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (await groupAlive(project)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const indexOf = (s: Screen, pattern: RegExp): number => s.history.findIndex((l) => pattern.test(l));

/** The last screen after the second Ctrl-C: what was killed, then the run's summary; nothing of the live view. */
function assertLastScreen(end: Screen, raw: string): void {
  const history = end.history.join('\n');
  const stopping = indexOf(end, /^stopping \(SIGINT\): no new work/);
  const waiting = indexOf(end, /^stopping: waiting up to 10s for site\/deploy \(Ctrl-C again to stop it now\)$/);
  const killed = indexOf(end, /^stopping now \(SIGINT again\): killed site\/deploy$/);
  const summary = indexOf(end, /^✖ site \w{12} on main interrupted/);
  assert.ok(stopping >= 0 && waiting > stopping && killed > waiting && summary > killed, history);
  assert.match(history, /✖ deploy .*interrupted/);
  assert.match(history, /↓ notify skipped/);
  assert.doesNotMatch(end.screen.join('\n'), SPINNER, 'a spinner is left on screen');
  assert.doesNotMatch(history, /›/, 'a live output line is left on screen');
  // The cursor that the live view hid is shown again.
  assert.ok(raw.lastIndexOf('\u001b[?25h') > raw.lastIndexOf('\u001b[?25l'), 'the cursor stays hidden');
}

describe('stopping on a terminal', { skip }, () => {
  test('run: Ctrl-C says at once what it waits for; status says stopping; a second Ctrl-C kills it and leaves a last screen', async (t) => {
    const project = await stubbornProject(t);
    const pty = startInPty(t, ['run'], { cwd: project.dir, env: project.env });
    await pty.until((s) => s.screen.some((l) => l.includes('line 3 latest')), 'the step to run');
    const typed = Date.now();
    pty.type('\u0003');
    await pty.until(
      (s) => s.history.some((l) => l === 'stopping: waiting up to 10s for site/deploy (Ctrl-C again to stop it now)'),
      'the stop to say what it waits for',
      5000,
    );
    assert.ok(Date.now() - typed < 5000, 'said at once, not after the grace period');

    const json = await project.cli('status', '--json');
    assert.equal(json.code, 0, json.stderr);
    const site = (JSON.parse(json.stdout) as { repos: { name: string; phase: string; step: string | null }[] }).repos.find((r) => r.name === 'site');
    assert.equal(site?.phase, 'stopping', json.stdout);
    assert.equal(site?.step, 'deploy');
    const text = await project.cli('status');
    assert.match(text.stdout, /^gitwatch stopping \(pid \d+/);
    assert.match(text.stdout, /\nsite .* stopping deploy \(\d+s\)/);
    assert.equal(await groupAlive(project), true, 'the step should still be ignoring SIGTERM');

    const again = Date.now();
    pty.type('\u0003');
    assert.equal(await pty.exited, 1);
    assert.ok(Date.now() - again < 5000, `took ${Date.now() - again} ms`);
    assert.ok(await groupGone(project), "the step's process group outlived gitwatch");
    const end = await pty.render();
    assertLastScreen(end, pty.raw());
    assert.equal(end.history.at(-1), 'stopped', end.history.join('\n'));
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'interrupted');
  });

  test('once: the same, and the interrupted run is recorded', async (t) => {
    const project = await stubbornProject(t);
    const pty = startInPty(t, ['once'], { cwd: project.dir, env: project.env });
    await pty.until((s) => s.screen.some((l) => l.includes('line 3 latest')), 'the step to run');
    pty.type('\u0003');
    await pty.until((s) => s.history.some((l) => l.startsWith('stopping: waiting up to 10s for site/deploy')), 'the stop to say what it waits for', 5000);
    pty.type('\u0003');
    assert.equal(await pty.exited, 1);
    assert.ok(await groupGone(project), "the step's process group outlived gitwatch");
    assertLastScreen(await pty.render(), pty.raw());
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'interrupted');
  });
});
