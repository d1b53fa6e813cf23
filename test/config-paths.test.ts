// The state file and the workdir, found without validating the config (locatePaths): what lets the
// commands that talk to a daemon work while the config file has a problem.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { locatePaths } from '../src/config/locate.js';
import { tempDir } from './helpers/temp.js';

const cases: readonly [what: string, text: string | undefined, expected: [state: string | undefined, workdir: string | undefined]][] = [
  ['a valid config', 'version: 1\nstate: run/lock.json\nworkdir: /srv/w\nrepos: {}\n', ['run/lock.json', '/srv/w']],
  ['defaults', 'version: 1\nrepos: {}\n', ['.gitwatch.lock.json', '.gitwatch']],
  ['a duplicate key further down', 'version: 1\nstate: run/lock.json\nrepos:\n  a: {}\n  a: {}\n', ['run/lock.json', '.gitwatch']],
  ['an anchor (read as YAML, its errors ignored)', 'state: &s run/lock.json\nworkdir: *s\nrepos: {a: 1, a: 2}\n', ['run/lock.json', 'run/lock.json']],
  ['a flow map', '{version: 1, state: flow.json, workdir: w}\n', ['flow.json', 'w']],
  ['a variable with a default', 'state: ${STATE_DIR:-/var/lib/gw}/lock.json\n', ['/var/lib/gw/lock.json', '.gitwatch']],
  ['a set variable', 'workdir: ${WORK}\n', ['.gitwatch.lock.json', '/srv/work']],
  ['an unset variable: unknown', 'state: ${NOPE}/lock.json\nworkdir: ${NOPE}\n', [undefined, undefined]],
  ['not YAML at all', '\t{ [ "', ['.gitwatch.lock.json', '.gitwatch']],
  ['a list, not a map', '- state: x\n', ['.gitwatch.lock.json', '.gitwatch']],
  ['no file', undefined, ['.gitwatch.lock.json', '.gitwatch']],
];

for (const [what, text, [state, workdir]] of cases) {
  test(`locatePaths: ${what}`, async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'gitwatch.yaml');
    if (text !== undefined) await writeFile(file, text);
    const found = await locatePaths({ file: 'gitwatch.yaml', absolutePath: file }, { WORK: '/srv/work' });
    assert.deepEqual(found, {
      statePath: state === undefined ? undefined : path.resolve(dir, state),
      workdir: workdir === undefined ? undefined : path.resolve(dir, workdir),
    });
  });
}
