// What a person sees on a terminal: gitwatch runs in a real pseudo-terminal and its output is rendered
// by a headless xterm; the assertions are about that screen and its scrollback.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, type Project } from './helpers/project.js';
import { ptyUnavailable, signal, startInPty, type PtyProcess, type Screen } from './helpers/terminal.js';
import { tempDir } from './helpers/temp.js';

const skip = ptyUnavailable();

// Steps that show they are running, then wait: for the test to create `$RECORD.go`, or for ever. Either
// way they stop when the test's folder ($HOME) is removed, so a failed test leaves nothing running.
const STARTED = 'echo $$ > "$RECORD.pgid"; echo "line 1"; echo "line 2"; echo "line 3 latest"';
const BLOCKING = `${STARTED}; while [ ! -f "$RECORD.go" ] && [ -d "$HOME" ]; do sleep 0.05; done`;
const ENDLESS = `${STARTED}; while [ -d "$HOME" ]; do sleep 0.05; done`;

function gitwatch(project: Project, t: TestContext, ...args: string[]): PtyProcess {
  return startInPty(t, args, { cwd: project.dir, env: project.env });
}

/** What the noisy step prints to set the window title, clear the screen and (8-bit CSI) clear it again. */
// eslint-disable-next-line no-control-regex
const STEP_SEQUENCES = /\u001b\]0;pwned|\u001b\[2J|\u009b2J|\u202e/;

const count = (s: Screen, text: string): number => s.history.filter((l) => l.includes(text)).length;

/** Whether the step's process group is gone, allowing a moment for killed members to be reaped. */
async function groupGone(project: Project, withinMs = 2000): Promise<boolean> {
  const pgid = Number.parseInt(await readFile(`${project.env['RECORD']}.pgid`, 'utf8'), 10);
  const end = Date.now() + withinMs;
  for (;;) {
    if (pgid > 0 && !signal(-pgid, 0)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('on a terminal', { skip }, () => {
  test('the running step shows its latest lines; a finished run leaves one line', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: {
          url: remote.url,
          pipeline: [
            { name: 'build', run: BLOCKING },
            { name: 'deploy', run: 'echo deployed' },
          ],
        },
      },
    });
    const pty = gitwatch(project, t, 'once');
    const live = await pty.until((s) => s.screen.some((l) => l.includes('line 3 latest')), "the step's latest line");
    assert.ok(
      live.screen.some((l) => /build/.test(l)),
      live.screen.join('\n'),
    );
    assert.ok(
      live.screen.some((l) => /deploy/.test(l)),
      'the step still to come is listed',
    );
    await writeFile(`${project.env['RECORD']}.go`, '');
    assert.equal(await pty.exited, 0);
    const end = await pty.render();
    assert.ok(end.history.length < 30, `${end.history.length} lines of history:\n${end.history.join('\n')}`);
    assert.ok(count(end, 'build') <= 2 && count(end, 'deploy') <= 2, end.history.join('\n'));
    assert.match(end.history.join('\n'), new RegExp(`✔ site ${remote.head().slice(0, 12)} on main succeeded in `));
  });

  test("a failure keeps the failing step's last 20 lines and the run log's path on screen", async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const fails = 'for i in $(seq 1 30); do echo "out $i"; done; exit 3';
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: ['true', { name: 'fails', run: fails }, { name: 'notify', run: 'true' }] } },
    });
    const pty = gitwatch(project, t, 'once');
    assert.equal(await pty.exited, 1);
    const { screen } = await pty.render();
    const text = screen.join('\n');
    assert.match(text, /✖ site \w{12} on main failed in .*: step 'fails' exited with code 3/);
    assert.match(text, /✖ fails .*exited with code 3/);
    assert.match(text, /│ out 11$/m);
    assert.match(text, /│ out 30$/m);
    assert.doesNotMatch(text, /│ out 10$/m);
    assert.match(text, /↓ notify skipped/);
    const log = /log: (\S+)/.exec(text)?.[1];
    assert.ok(log !== undefined && existsSync(log), text);
    assert.match(await readFile(log, 'utf8'), /out 30/);
  });

  test('-q shows failures only; a repo that waits on a failed commit is never marked ✔', async (t) => {
    const root = await tempDir(t);
    const good = await TestRepo.create(path.join(root, 'good'));
    const bad = await TestRepo.create(path.join(root, 'bad'));
    const project = await makeProject(t, { version: 1, repos: { good: { url: good.url, pipeline: ['true'] }, bad: { url: bad.url, pipeline: ['exit 2'] } } });
    const quiet = gitwatch(project, t, '-q', 'once');
    assert.equal(await quiet.exited, 1);
    const first = await quiet.render();
    assert.equal(count(first, 'good'), 0, first.history.join('\n'));
    assert.match(first.history.join('\n'), /✖ bad \w{12} on main failed/);

    const again = gitwatch(project, t, 'once');
    assert.equal(await again.exited, 1);
    const second = await again.render();
    const waiting = second.history.filter((l) => l.includes('bad'));
    assert.equal(waiting.length, 1, second.history.join('\n'));
    assert.match(waiting[0] ?? '', /failed before/);
    assert.doesNotMatch(waiting[0] ?? '', /✔/);
    assert.ok(
      second.history.some((l) => /✔ good up to date/.test(l)),
      second.history.join('\n'),
    );
  });

  for (const [command, code] of [
    ['once', 1],
    ['run', 0],
  ] as const) {
    test(`Ctrl-C during a step with steps to come: \`${command}\` exits ${code} in time and leaves nothing running`, async (t) => {
      const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
      const project = await makeProject(t, {
        version: 1,
        repos: {
          site: {
            url: remote.url,
            pipeline: [
              { name: 'build', run: ENDLESS },
              { name: 'deploy', run: 'true' },
            ],
          },
        },
      });
      const pty = gitwatch(project, t, command);
      await pty.until((s) => s.screen.some((l) => l.includes('line 3 latest')), 'the step to run');
      const started = Date.now();
      pty.type('\u0003');
      const exit = await Promise.race([pty.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
      assert.equal(exit, code, (await pty.render()).history.join('\n'));
      assert.ok(Date.now() - started < 15_000);
      assert.ok(await groupGone(project), "the step's process group outlived gitwatch");
      assert.equal((await project.state()).repos['site']?.lastRun?.status, 'interrupted');
      const end = (await pty.render()).history.join('\n');
      assert.match(end, /✖ site \w{12} on main interrupted/);
      assert.match(end, /↓ deploy skipped/);
      assert.equal(existsSync(`${project.statePath}.pid`), false);
    });
  }

  test('the run of an interrupted commit says so in its live view, not "first run"', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [{ name: 'build', run: BLOCKING }] } } });
    const title = `site ${remote.head().slice(0, 12)} on main`;
    const first = gitwatch(project, t, 'once');
    const live = await first.until((s) => s.screen.some((l) => l.includes('line 3 latest')), 'the first run');
    assert.ok(
      live.screen.some((l) => l.includes(`${title} (first run)`)),
      live.screen.join('\n'),
    );
    first.type('\u0003');
    assert.equal(await first.exited, 1);
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'interrupted');

    const again = gitwatch(project, t, 'once');
    const rerun = await again.until((s) => s.screen.some((l) => l.includes('line 3 latest')), 'the run again');
    assert.ok(
      rerun.screen.some((l) => l.includes(`${title} (interrupted before; runs again)`)),
      rerun.screen.join('\n'),
    );
    await writeFile(`${project.env['RECORD']}.go`, '');
    assert.equal(await again.exited, 0);
  });

  test("a tag repo's summary names its tag", async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'rel'));
    remote.git('tag', 'v1.2.0');
    await remote.commit({ 'unreleased.txt': 'later\n' });
    const project = await makeProject(t, { version: 1, repos: { rel: { url: remote.url, tag: 'v*', pipeline: [{ name: 'fails', run: 'exit 3' }] } } });
    const pty = gitwatch(project, t, 'once');
    assert.equal(await pty.exited, 1);
    const text = (await pty.render()).history.join('\n');
    assert.match(text, new RegExp(`✖ rel ${remote.head('v1.2.0').slice(0, 12)} on tag v1\\.2\\.0 failed in .*: step 'fails' exited with code 3`), text);
  });

  test('a second Ctrl-C exits at once, even while a step ignores SIGTERM, and kills its group', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: [{ name: 'stubborn', run: `trap '' TERM; ${ENDLESS}` }, 'true'] } },
    });
    const pty = gitwatch(project, t, 'run');
    await pty.until((s) => s.screen.some((l) => l.includes('line 3 latest')), 'the step to run');
    pty.type('\u0003');
    // The first one waits out the grace period (10 s) for the step; the second does not.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await groupGone(project, 0), false, 'the step should still be ignoring SIGTERM');
    const started = Date.now();
    pty.type('\u0003');
    assert.equal(await pty.exited, 1);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.ok(await groupGone(project), "the step's process group outlived gitwatch");
  });

  test('the daemon shows what it watches, then one line per finished run', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, interval: '1s', pipeline: ['echo built', { name: 'deploy', run: 'echo deployed' }] } },
    });
    const pty = gitwatch(project, t, 'run');
    const first = remote.head().slice(0, 12);
    await pty.until((s) => s.history.some((l) => l.includes(`✔ site ${first} on main succeeded`)), 'the first run');
    const second = (await remote.commit()).slice(0, 12);
    const screen = await pty.until((s) => s.history.some((l) => l.includes(`✔ site ${second} on main succeeded`)), 'the second run');
    assert.match(screen.history[0] ?? '', /^gitwatch running \(pid \d+\), watching 1 repo: site$/);
    assert.equal(screen.history.length, 3, screen.history.join('\n'));
    pty.type('\u0003');
    assert.equal(await pty.exited, 0);
  });

  test("text from outside cannot drive the terminal: a step's control sequences, in the live view and in `logs`", async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    remote.git('branch', '--quiet', '-m', 'main', 'ma\u202ein');
    const noisy = `printf 'title\\033]0;pwned\\007 \\033[2J\\033[31mred\\033[0m\\302\\2332J done\\n'`;
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: 'ma*', pipeline: [noisy] } } });
    const once = gitwatch(project, t, 'once', '-v');
    assert.equal(await once.exited, 0, once.raw());
    assert.doesNotMatch(once.raw(), STEP_SEQUENCES);
    assert.match(once.raw(), /site@ma\\u202ein/);

    const logs = gitwatch(project, t, 'logs', 'site@ma\u202ein');
    assert.equal(await logs.exited, 0, logs.raw());
    assert.doesNotMatch(logs.raw(), STEP_SEQUENCES);
    const screen = await logs.render();
    assert.ok(
      screen.history.some((l) => l === 'title red done'),
      screen.history.join('\n'),
    );
  });
});
