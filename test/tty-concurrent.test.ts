// Several pipelines at once on a terminal (`concurrency.pipelines`): every running run is on screen with
// its steps and latest lines, a run that waits for its group says so, and each finished run leaves its
// summary once. The steps wait for files the test creates, so what is on screen is known, never timed.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, type Project } from './helpers/project.js';
import { ptyUnavailable, startInPty, type Screen } from './helpers/terminal.js';
import { tempDir } from './helpers/temp.js';

const skip = ptyUnavailable();

/** Prints that it runs, then waits for `$RECORD.go-<repo>` (or the test's folder to go). */
const GATED =
  'echo "$GITWATCH_REPO line 1"; echo "$GITWATCH_REPO is waiting"; while [ ! -f "$RECORD.go-$GITWATCH_REPO" ] && [ -d "$HOME" ]; do sleep 0.05; done';

const release = (project: Project, repo: string): Promise<void> => writeFile(`${project.env['RECORD']}.go-${repo}`, '');
const onScreen = (s: Screen, text: string): boolean => s.screen.some((l) => l.includes(text));
const inHistory = (s: Screen, pattern: RegExp): number => s.history.filter((l) => pattern.test(l)).length;

describe('several pipelines on a terminal', { skip }, () => {
  test('two runs are on screen at once, a third waits for its group and says so; each leaves its summary once', async (t) => {
    const root = await tempDir(t);
    const [api, site, web] = await Promise.all(['api', 'site', 'web'].map((name) => TestRepo.create(path.join(root, name))));
    if (api === undefined || site === undefined || web === undefined) throw new Error('no repos');
    const project = await makeProject(t, {
      version: 1,
      concurrency: { pipelines: 2 },
      repos: {
        api: {
          url: api.url,
          group: 'deploy',
          pipeline: [
            { name: 'migrate', run: 'echo migrated' },
            { name: 'deploy', run: GATED },
          ],
        },
        site: {
          url: site.url,
          pipeline: [
            { name: 'build', run: GATED },
            { name: 'publish', run: 'echo published' },
          ],
        },
        web: { url: web.url, group: 'deploy', pipeline: [{ name: 'ship', run: GATED }] },
      },
    });
    const sha = (repo: TestRepo): string => repo.head().slice(0, 12);
    const pty = startInPty(t, ['once'], { cwd: project.dir, env: project.env });

    const both = await pty.until(
      (s) => onScreen(s, 'api is waiting') && onScreen(s, 'site is waiting') && onScreen(s, 'queued (group deploy: api)'),
      'api and site running, web queued behind its group',
    );
    const screen = both.screen.join('\n');
    // Each run with its title, its steps and its running step's latest lines.
    assert.match(screen, new RegExp(`api ${sha(api)} on main \\(first run\\)`), screen);
    assert.match(screen, new RegExp(`site ${sha(site)} on main \\(first run\\)`), screen);
    for (const step of ['migrate', 'deploy', 'build', 'publish']) assert.match(screen, new RegExp(step), screen);
    assert.ok(onScreen(both, 'api line 1') && onScreen(both, 'site line 1'), screen);
    assert.match(screen, new RegExp(`web ${sha(web)} queued \\(group deploy: api\\)`), screen);
    assert.doesNotMatch(screen, /ship/, 'a queued run shows no steps yet');
    // The live view is only on screen: nothing of it went to the history above it.
    assert.equal(inHistory(both, /is waiting/), 2, both.history.join('\n'));

    // site ends; api still holds the group, so web still waits, and api is still drawn.
    await release(project, 'site');
    await pty.until(
      (s) => inHistory(s, /✔ site .* succeeded/) === 1 && onScreen(s, 'api is waiting') && onScreen(s, 'queued (group deploy: api)'),
      "site's summary, with api still running and web still queued",
    );

    // Not even a frame on its way out marked a step that still runs, or a queued run, as done.
    // eslint-disable-next-line no-control-regex
    const drawn = pty.raw().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    assert.doesNotMatch(drawn, /✔ (deploy|ship|web)/);

    // api ends: web's turn.
    await release(project, 'api');
    await pty.until((s) => onScreen(s, 'web is waiting'), 'web running after api');
    await release(project, 'web');
    assert.equal(await pty.exited, 0);

    const end = await pty.render();
    const history = end.history.join('\n');
    for (const [name, repo] of [
      ['api', api],
      ['site', site],
      ['web', web],
    ] as const) {
      assert.equal(inHistory(end, new RegExp(`^✔ ${name} ${sha(repo)} on main succeeded in `)), 1, history);
    }
    // Summaries only: no frame, no queued line, no step output left behind.
    assert.equal(end.history.length, 3, history);
  });
});
