// What a gitwatch killed with SIGKILL leaves behind must not stop the next one: git's lock files in the
// store, a state temp file written but never renamed.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

test("a killed gitwatch's git locks and state temp file are cleared by the next run", async (t) => {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });
  assert.equal((await project.cli('once')).code, 0);
  const store = path.join(project.dir, '.gitwatch', '.git-store', 'site.git');
  const leftovers = [path.join(store, 'index.lock'), path.join(store, 'refs', 'gitwatch', 'target.lock'), `${project.statePath}.999999.tmp`];
  for (const file of leftovers) await writeFile(file, 'left by a killed process\n');
  const sha = await remote.commit();
  const result = await project.cli('once');
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal((await project.state()).repos['site']?.commit, sha);
  for (const file of leftovers) assert.equal(existsSync(file), false, `${path.basename(file)} is still there`);
});
