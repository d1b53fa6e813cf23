// With one pipeline at a time (the default), only the pipelines are serial: the next repos' fetch and
// checkout happen while the current pipeline runs. Proven with a step that waits on another repo's
// checkout, never with timing: were fetches queued behind pipelines, the step would wait in vain.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/**
 * A's step, from its second run on: marks itself started, waits (at most 20 s) until B's checkout holds
 * B's new file, and checks that its own checkout is still its own commit after the wait.
 */
function waitsForB(checkoutB: string, marks: string): string {
  return [
    '[ -z "$GITWATCH_PREVIOUS_COMMIT" ] && exit 0',
    `touch '${marks}/a-started'`,
    `for i in $(seq 400); do [ "$(cat '${checkoutB}/app.txt' 2>/dev/null)" = v2 ] && break; sleep 0.05; done`,
    `[ "$(cat '${checkoutB}/app.txt' 2>/dev/null)" = v2 ] || { echo "b was not checked out while a ran"; exit 1; }`,
    '[ "$(git rev-parse HEAD)" = "$GITWATCH_COMMIT" ] || { echo "a\'s checkout moved during its run"; exit 1; }',
    'echo "a saw b" >> "$RECORD"',
  ].join('\n');
}

/** Repos a and b (b at v1) in a project whose a waits for b's checkout; `extra` goes into both repos' config. */
async function twoRepos(t: TestContext, extra: Record<string, unknown> = {}) {
  const root = await tempDir(t);
  const a = await TestRepo.create(path.join(root, 'a'));
  const b = await TestRepo.create(path.join(root, 'b'));
  await b.commit({ 'app.txt': 'v1\n' });
  const project = await makeProject(t);
  const checkoutB = path.join(project.dir, '.gitwatch', 'b');
  await project.writeConfig({
    version: 1,
    repos: {
      a: { url: a.url, ...extra, pipeline: [{ name: 'wait-for-b', run: waitsForB(checkoutB, root) }] },
      b: { url: b.url, ...extra, pipeline: ['echo "b ran" >> "$RECORD"'] },
    },
  });
  return { root, a, b, project };
}

describe('fetches overlap pipelines', () => {
  test('once, pipelines 1: while a runs, b is already fetched and checked out at its new commit', async (t) => {
    const { a, b, project } = await twoRepos(t);
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);

    await a.commit();
    await b.commit({ 'app.txt': 'v2' });
    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    // b's pipeline still ran after a's: only the fetch and checkout came early.
    assert.deepEqual(await project.record(), ['b ran', 'a saw b', 'b ran']);
  });

  test('run, pipelines 1: while a runs, a triggered b is fetched and checked out, and runs after a', async (t) => {
    const { root, a, b, project } = await twoRepos(t, { interval: '1h' });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.state()).repos['a']?.lastRun !== undefined && (await project.record()).includes('b ran'), 'the first runs');

    // a first, and only once its step waits does b get its new commit: b's check, fetch and checkout all
    // happen while a's pipeline holds the one slot.
    await a.commit();
    assert.equal((await project.cli('trigger', 'a')).code, 0);
    await daemon.until(async () => (await project.cli('status', '--json')).stdout.includes('"phase": "running"'), 'a running');
    await daemon.until(() => existsSync(path.join(root, 'a-started')), "a's step started");
    await b.commit({ 'app.txt': 'v2' });
    assert.equal((await project.cli('trigger', 'b')).code, 0);
    await daemon.until(async () => (await project.record()).length === 3, 'both ran');
    assert.deepEqual(await project.record(), ['b ran', 'a saw b', 'b ran']);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
