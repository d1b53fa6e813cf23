// Terminals that cannot show the live view: TERM=dumb, no TERM at all, and a terminal with no size get
// plain lines, as a pipe does, without a single escape sequence.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { ptyUnavailable, startInPty, type PtyOptions } from './helpers/terminal.js';
import { tempDir } from './helpers/temp.js';

const skip = ptyUnavailable();

const CASES: readonly { readonly what: string; readonly term: PtyOptions['term']; readonly size: PtyOptions['size'] }[] = [
  { what: 'TERM=dumb at 80×24', term: 'dumb', size: { cols: 80, rows: 24 } },
  { what: 'no TERM at 80×24', term: null, size: { cols: 80, rows: 24 } },
  { what: 'a 0×0 terminal', term: 'xterm-256color', size: { cols: 0, rows: 0 } },
];

describe('terminals without a live view', { skip }, () => {
  for (const { what, term, size } of CASES) {
    test(`${what}: plain lines, no escape sequence`, async (t) => {
      const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
      const failing = await TestRepo.create(path.join(await tempDir(t), 'api'));
      const project = await makeProject(t, {
        version: 1,
        repos: {
          site: { url: remote.url, pipeline: [{ name: 'build', run: 'for i in 1 2 3; do echo "built $i"; sleep 0.1; done' }] },
          api: { url: failing.url, pipeline: [{ name: 'test', run: 'echo "not ok 1"; exit 1' }] },
        },
      });
      const pty = startInPty(t, ['once'], { cwd: project.dir, env: project.env, term, size });
      assert.equal(await pty.exited, 1);
      const raw = pty.raw();
      const sha = remote.head().slice(0, 12);
      assert.match(raw, new RegExp(`site ▶ ${sha} on main \\(first run\\)`), raw);
      assert.match(raw, /site build ✔ /, raw);
      assert.match(raw, new RegExp(`site ✔ succeeded ${sha} in `), raw);
      assert.match(raw, /api test ✖ .*exited with code 1/, raw);
      assert.match(raw, /api test │ not ok 1/, raw);
      assert.equal(raw.includes('\u001b'), false, `an escape sequence in:\n${JSON.stringify(raw)}`);
    });
  }
});
