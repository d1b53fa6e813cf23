// concurrency.pipelines and group, through the built CLI: pipelines of different repos overlap up to the
// limit, repos of one group never do, and a queued repo says what it waits for. Overlap is proven with
// steps that wait for each other's files, never with timing.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startDaemon, startGitwatch } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { listeningUrl } from './helpers/listen.js';
import { makeProject, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** Records its start, waits until the test creates `release-<repo>`, records its end. */
const gated = (dir: string): string =>
  `echo "start $GITWATCH_REPO" >> "$RECORD"; while [ ! -e '${dir}'/release-$GITWATCH_REPO ]; do sleep 0.05; done; echo "end $GITWATCH_REPO" >> "$RECORD"`;

/** Marks itself started, then waits (at most 20 s) for `other` to have started too. */
const meets = (dir: string, other: string): string =>
  `touch '${dir}'/started-$GITWATCH_REPO; for i in $(seq 400); do [ -e '${dir}/started-${other}' ] && exit 0; sleep 0.05; done; echo "${other} never ran beside me"; exit 1`;

interface Row {
  name: string;
  phase: string | null;
  waitingFor: string | null;
}

async function rows(project: Project): Promise<Row[]> {
  const result = await project.cli('status', '--json');
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { repos: Row[] }).repos;
}

describe('concurrency.pipelines and group', () => {
  test('once: two pipelines overlap with pipelines: 2, and cannot with the default of one', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const repos = { a: { url: a.url, pipeline: [meets(root, 'b')] }, b: { url: b.url, pipeline: [meets(root, 'a')] } };
    const parallel = await makeProject(t, { version: 1, concurrency: { pipelines: 2 }, repos });
    const both = await parallel.cli('once');
    assert.equal(both.code, 0, both.stdout + both.stderr);

    const serialRoot = await tempDir(t);
    const serialRepos = { a: { url: a.url, pipeline: [meets(serialRoot, 'b')] }, b: { url: b.url, pipeline: [meets(serialRoot, 'a')] } };
    const serial = await makeProject(t, { version: 1, repos: serialRepos });
    const one = await serial.cli('once');
    assert.equal(one.code, 1, 'with one pipeline at a time, a waited for b in vain');
    assert.match(one.stdout, /b never ran beside me/);
  });

  test('once: repos of one group never overlap, whatever pipelines allows', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const project = await makeProject(t, {
      version: 1,
      concurrency: { pipelines: 4, checks: 4 },
      defaults: { group: 'host1' },
      repos: { a: { url: a.url, pipeline: [meets(root, 'b')] }, b: { url: b.url, pipeline: [meets(root, 'a')] } },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /b never ran beside me/);
    assert.match(result.stdout, /b · [0-9a-f]{12} queued \(group host1: a\)/);
  });

  test('run: up to two at once; one of a group waits for the other and says so in status and the log', async (t) => {
    const root = await tempDir(t);
    const remotes = await Promise.all(['a', 'b', 'c'].map((n) => TestRepo.create(path.join(root, n))));
    const [a, b, c] = remotes as [TestRepo, TestRepo, TestRepo];
    const project = await makeProject(t, {
      version: 1,
      concurrency: { pipelines: 2 },
      repos: {
        a: { url: a.url, interval: '1h', group: 'deploy', pipeline: [gated(root)] },
        b: { url: b.url, interval: '1h', group: 'deploy', pipeline: [gated(root)] },
        c: { url: c.url, interval: '1h', pipeline: [gated(root)] },
      },
    });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const url = await listeningUrl(daemon);
    const running = async () => (await rows(project)).filter((r) => r.phase === 'running').map((r) => r.name);
    await daemon.until(async () => (await running()).length === 2 && (await rows(project)).some((r) => r.phase === 'queued'), 'two running, one queued');
    const first = await rows(project);
    const now = first.filter((r) => r.phase === 'running').map((r) => r.name);
    const [queued] = first.filter((r) => r.phase === 'queued');
    // Whichever of the group checked first runs; c runs beside it; the other of the group waits for it.
    assert.ok(now.includes('c'), JSON.stringify(first));
    const holder = now.find((n) => n !== 'c') ?? '';
    assert.ok(['a', 'b'].includes(holder) && queued !== undefined && queued.name !== holder && queued.name !== 'c', JSON.stringify(first));
    assert.equal(queued.waitingFor, `group deploy: ${holder}`);
    assert.match((await project.cli('status')).stdout, new RegExp(`\\n${queued.name} .*queued \\(group deploy: ${holder}\\)`));
    assert.match(daemon.stdout(), new RegExp(`${queued.name} · [0-9a-f]{12} queued \\(group deploy: ${holder}\\)`));

    // c ends: the group still holds the other back.
    await writeFile(path.join(root, 'release-c'), '');
    await daemon.until(async () => (await project.record()).includes('end c'), 'c ended');
    assert.equal((await rows(project)).find((r) => r.name === queued.name)?.phase, 'queued');
    await writeFile(path.join(root, `release-${holder}`), '');
    await writeFile(path.join(root, `release-${queued.name}`), '');
    await daemon.until(async () => (await project.record()).filter((l) => l.startsWith('end')).length === 3, 'all three ended');
    const lines = await project.record();
    const inGroup = lines.filter((l) => / (a|b)$/.test(l));
    assert.deepEqual(inGroup, [`start ${holder}`, `end ${holder}`, `start ${queued.name}`, `end ${queued.name}`], 'the group never overlapped');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, new RegExp(`gitwatch_queue_wait_seconds_count\\{repo="${queued.name}"\\} 1`));
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('once: a run still queued when gitwatch is stopped never starts and records nothing', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const project = await makeProject(t, { version: 1, repos: { a: { url: a.url, pipeline: [gated(root)] }, b: { url: b.url, pipeline: [gated(root)] } } });
    const once = startGitwatch(t, project, ['once']);
    await once.until(async () => (await project.record()).includes('start a'), 'a running, b queued behind it');
    once.child.kill('SIGINT');
    assert.equal(await once.exited, 1);
    const state = await project.state();
    assert.equal(state.repos['a']?.lastRun?.status, 'interrupted');
    assert.equal(state.repos['b']?.lastRun, undefined, 'b never started, so nothing of it is recorded');
    assert.ok(!(await project.record()).includes('start b'));
  });

  test('the config takes a plain number as the old checks limit, and rejects a pipelines limit below 1 and a bad group', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const old = await makeProject(t, { version: 1, concurrency: 4, repos: { a: { url: a.url, pipeline: ['true'] } } });
    assert.equal((await old.cli('validate')).code, 0);
    const bad = await makeProject(t, { version: 1, concurrency: { pipelines: 0 }, repos: { a: { url: a.url, group: 'Not OK', pipeline: ['true'] } } });
    const result = await bad.cli('validate');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /gitwatch\.yaml:\d+:\d+: .*\(at concurrency(\.pipelines)?\)/);
    assert.match(result.stderr, /gitwatch\.yaml:\d+:\d+: .*\(at repos\.a\.group\)/);
  });
});
