import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

test('a UTF-8 character split across two reads of a step reaches events and JSON intact', async (t) => {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const project = await makeProject(t, {
    version: 1,
    repos: { site: { url: remote.url, pipeline: [{ name: 'split', run: "printf 'caf\\303'; sleep 0.3; printf '\\251 ok\\n'" }] } },
  });
  const plain = await project.cli('once', '-v');
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^site split │ café ok$/m);
  assert.doesNotMatch(plain.stdout, /\uFFFD/);

  await remote.commit();
  const json = await project.cli('--log-format', 'json', '-v', 'once');
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; line?: string });
  assert.deepEqual(events.filter((e) => e.event === 'step-output').map((e) => e.line), ['café ok']);
});
