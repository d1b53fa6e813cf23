// Jobs on a terminal: each job is a group of its steps, and groups that run at the same time are on screen
// together, each with its running step's latest line.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { ptyUnavailable, startInPty } from './helpers/terminal.js';
import { tempDir } from './helpers/temp.js';

const skip = ptyUnavailable();

/** Marks itself started, prints a line, and waits for the other's mark: both finish only if both run at once. */
const meet = (me: string, other: string): string =>
  `touch "$RECORD.${me}"; echo "${me} is waiting for ${other}"; i=0; until [ -e "$RECORD.${other}" ] || [ $i -gt 400 ]; do i=$((i+1)); sleep 0.05; done; ` +
  `while [ ! -f "$RECORD.go" ] && [ -d "$HOME" ]; do sleep 0.05; done; echo "${me} done"`;

describe('jobs on a terminal', { skip }, () => {
  test('jobs that run at once are on screen together, as groups of their steps; the end leaves a summary', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'app'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        app: {
          url: remote.url,
          jobs: {
            build: { steps: [{ name: 'compile', run: meet('build', 'lint') }] },
            lint: { steps: [{ name: 'eslint', run: meet('lint', 'build') }] },
            test: { needs: ['build'], steps: [{ name: 'unit', run: 'echo unit ok' }] },
            deploy: { needs: ['test', 'lint'], steps: [{ name: 'ship', run: 'echo shipped' }] },
          },
        },
      },
    });
    const pty = startInPty(t, ['once'], { cwd: project.dir, env: project.env });
    const live = await pty.until(
      (s) => s.screen.some((l) => l.includes('build is waiting for lint')) && s.screen.some((l) => l.includes('lint is waiting for build')),
      'both jobs running, each with its latest line',
    );
    const screen = live.screen.join('\n');
    for (const text of ['build', 'compile', 'lint', 'eslint', 'test \\(needs build\\)']) assert.match(screen, new RegExp(text), screen);
    // Steps sit under their job, and a job that waits for its needs says so and shows no step yet.
    const indent = (pattern: RegExp): number => live.screen.find((l) => pattern.test(l))?.search(/\S/) ?? -1;
    assert.ok(indent(/^\s*❯ build$/) >= 0 && indent(/compile$/) > indent(/^\s*❯ build$/), screen);
    assert.ok(indent(/^\s*❯ lint$/) >= 0 && indent(/eslint$/) > indent(/^\s*❯ lint$/), screen);
    assert.match(screen, /deploy \(needs test, lint\)/);
    assert.doesNotMatch(screen, /ship/);
    // A waiting job is marked as a waiting step is (◼), not spun as if it ran.
    assert.match(screen, /^\s*◼ test \(needs build\)$/m, screen);
    assert.match(screen, /^\s*◼ deploy \(needs test, lint\)$/m, screen);
    await writeFile(`${project.env['RECORD']}.go`, '');
    assert.equal(await pty.exited, 0);
    const end = (await pty.render()).history.join('\n');
    assert.match(end, new RegExp(`✔ app ${remote.head().slice(0, 12)} on main succeeded in `), end);
  });

  test('every duration on screen is in the words of the summary: ms below a second, then seconds', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'app'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        app: {
          url: remote.url,
          jobs: {
            build: {
              steps: [
                { name: 'prepare', run: 'true' },
                { name: 'compile', run: 'echo compiling; while [ ! -f "$RECORD.go" ] && [ -d "$HOME" ]; do sleep 0.05; done' },
              ],
            },
          },
        },
      },
    });
    const pty = startInPty(t, ['once'], { cwd: project.dir, env: project.env });
    const live = await pty.until((s) => s.screen.some((l) => /compile \(\d+s\)$/.test(l)), 'the running step to show its seconds');
    const screen = live.screen.join('\n');
    // listr2's own timer would say `[0.0s]`; gitwatch's words say `[12ms]`.
    assert.match(screen, /✔ prepare \[\d+ms\]$/m, screen);
    assert.doesNotMatch(screen, /\[\d+\.\d+s\]|0\.0s/, screen);
    await writeFile(`${project.env['RECORD']}.go`, '');
    assert.equal(await pty.exited, 0);
  });
});
