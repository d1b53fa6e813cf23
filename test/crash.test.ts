import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { readState } from '../src/state/state-file.js';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const KILLS = 50;

test(`kill -9 at ${KILLS} random moments never corrupts the lock nor moves it backwards, and the last commit is processed`, async (t) => {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const project = await makeProject(t, {
    version: 1,
    repos: { site: { url: remote.url, interval: '1s', pipeline: ['echo "$GITWATCH_COMMIT" >> "$RECORD"', 'sleep 0.1', 'echo done >/dev/null'] } },
  });
  const commits = [remote.head()];
  let highest = -1;
  let advanced = 0;
  let seed = 20261128;
  const random = (): number => {
    // A fixed-seed generator, so a failure can be replayed.
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < KILLS; i++) {
    if (random() < 0.5) commits.push(await remote.commit());
    const daemon = startDaemon(t, project);
    await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 1600)));
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    const state = await readState(project.statePath); // throws if the file does not parse or is not a state
    const commit = state.repos['site']?.commit;
    if (commit === undefined) continue;
    const index = commits.indexOf(commit);
    assert.ok(index >= 0, `kill ${i}: the lock holds an unknown commit ${commit}`);
    assert.ok(index >= highest, `kill ${i}: the lock moved backwards from commit #${highest} to #${index}`);
    if (index > highest) advanced++;
    highest = index;
  }
  const last = commits[commits.length - 1] ?? '';
  const daemon = startDaemon(t, project);
  // A killed daemon may have recorded the last commit already: the SIGTERM below must not come before this
  // one has installed its handlers, which it has once it says it runs.
  await daemon.until(() => /^gitwatch running \(pid \d+\)/m.test(daemon.stdout()), 'the daemon ready');
  await daemon.until(async () => (await readState(project.statePath)).repos['site']?.commit === last, 'the last commit', 20_000);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const ran = (await readFile(project.env['RECORD'] ?? '', 'utf8')).split('\n');
  assert.ok(ran.includes(last), 'the last commit was recorded without its pipeline running');
  t.diagnostic(`${commits.length} commits; the lock advanced between ${advanced} of ${KILLS} kills`);
  assert.ok(advanced >= 5, `the lock advanced between only ${advanced} kills: the test did not exercise the daemon`);
});
