// `jobs`: a graph of jobs run by the real CLI against real repositories. Jobs prove they ran side by side
// through files they wait on, not through timing: a job that waits for another's mark can only finish if
// both run at once.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { isAlive, startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** A step that marks `name` started, then waits (at most 10 s) for every file in `waitFor`. */
function mark(name: string, waitFor: string[] = []): string {
  const wait = waitFor.map((w) => `i=0; until [ -e "$MARKS/${w}" ]; do i=$((i+1)); [ $i -gt 200 ] && { echo "no ${w}"; exit 3; }; sleep 0.05; done`).join('; ');
  return `mkdir -p "$MARKS"; echo "$(date +%s%N)" > "$MARKS/${name}.start"; ${wait || 'true'}; echo "$(date +%s%N)" > "$MARKS/${name}.end"`;
}

interface Times {
  start: bigint;
  end: bigint;
}

async function times(dir: string, job: string): Promise<Times> {
  const read = async (what: string): Promise<bigint> => BigInt((await readFile(path.join(dir, `${job}.${what}`), 'utf8')).trim());
  return { start: await read('start'), end: await read('end') };
}

/** A daemon running `app`, whose jobs named in `sleeping` each start a long sleep and record its pid. */
async function sleepingJobs(t: TestContext, sleeping: string[], extra: Record<string, unknown>) {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'app'));
  const sleeper = (job: string): string => `sleep 300 & echo $! > "$RECORD.${job}"; wait`;
  const jobs = { ...Object.fromEntries(sleeping.map((j) => [j, { steps: [sleeper(j)] }])), ...extra };
  const project = await makeProject(t, { version: 1, repos: { app: { url: remote.url, interval: '1h', jobs } } });
  const daemon = startDaemon(t, project);
  const pids = async (): Promise<number[]> => Promise.all(sleeping.map(async (j) => Number(await readFile(`${project.env['RECORD']}.${j}`, 'utf8'))));
  await daemon.until(async () => (await pids()).every((pid) => pid > 0), `${sleeping.length} jobs running`);
  return { project, daemon, running: await pids() };
}

describe('jobs', () => {
  test('a graph of five jobs: independent ones at once, each as soon as its own needs are done', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'app'));
    const project = await makeProject(t);
    const marks = path.join(project.dir, 'marks');
    await project.writeConfig({
      version: 1,
      repos: {
        app: {
          url: remote.url,
          env: { MARKS: marks },
          jobs: {
            // a and b each wait for the other's start: both finish only if they run at the same time.
            a: { steps: [mark('a', ['b.start'])] },
            // b then waits until c has run: c must start while b, which it does not need, still runs.
            b: { steps: [mark('b', ['a.start', 'c.end'])] },
            c: { needs: ['a'], steps: [mark('c')] },
            d: { needs: ['b', 'c'], steps: [mark('d')] },
            e: { needs: ['d'], steps: [mark('e'), 'echo "job=$GITWATCH_JOB step=$GITWATCH_STEP" >> "$RECORD"'] },
          },
        },
      },
    });
    const result = await project.cli('once', '--log-format', 'json');
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const [a, b, c, d, e] = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((job) => times(marks, job)));
    assert.ok(a && b && c && d && e);
    assert.ok(a.start < b.end && b.start < a.end, 'a and b overlap');
    assert.ok(c.start >= a.end && c.end <= b.end, 'c ran after a, while b still ran');
    assert.ok(d.start >= b.end && d.start >= c.end, 'd waited for b and c');
    assert.ok(e.start >= d.end, 'e waited for d');
    assert.deepEqual(await project.record(), ['job=e step=e/echo "job=$GITWATCH_JOB step=$GITWATCH_STEP" >> "$RECORD"']);
    assert.equal((await project.state()).repos['app']?.commit, remote.head());
    // Steps are named job/step in events.
    const started = result.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { event: string; step?: string })
      .filter((e) => e.event === 'step-started')
      .map((e) => e.step);
    assert.equal(started.length, 6);
    assert.ok(started.includes('c/' + mark('c')));
  });

  test('a failed job skips the jobs that need it, directly or not; the others run; the run fails', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'app'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        app: {
          url: remote.url,
          jobs: {
            build: { steps: [{ name: 'compile', run: 'echo compiling; exit 4' }] },
            test: { needs: ['build'], steps: ['echo test >> "$RECORD"'] },
            deploy: { needs: ['test'], steps: ['echo deploy >> "$RECORD"'] },
            lint: { steps: [{ name: 'eslint', run: 'echo lint >> "$RECORD"' }] },
          },
        },
      },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(await project.record(), ['lint']);
    assert.match(result.stdout, /^app build\/compile ✖ \S+: step 'build\/compile' exited with code 4$/m);
    assert.match(result.stdout, /^app build\/compile │ compiling$/m);
    assert.match(result.stdout, /^app test\/echo test >> "\$RECORD" - skipped$/m);
    assert.match(result.stdout, /^app deploy\/echo deploy >> "\$RECORD" - skipped$/m);
    assert.match(result.stdout, /^app lint\/eslint ✔/m);
    const lastRun = (await project.state()).repos['app']?.lastRun;
    assert.equal(lastRun?.status, 'failed');
    assert.equal(lastRun?.error, "step 'build/compile' exited with code 4");
    // One log for the run in time order, with each line marked by its job, and one log per job that ran.
    const logs = path.join(project.dir, '.gitwatch', 'logs', 'app');
    const files = await readdir(logs);
    const runLog = files.find((f) => f.endsWith('.log'));
    const jobDir = files.find((f) => f.endsWith('.jobs'));
    assert.ok(runLog && jobDir, files.join(', '));
    const combined = await readFile(path.join(logs, runLog), 'utf8');
    assert.match(combined, /^\[build\] compiling$/m);
    assert.match(combined, /^==> job test skipped: needs 'build', which failed$/m);
    assert.match(combined, /^==> job deploy skipped: needs 'test', which was skipped$/m);
    assert.deepEqual((await readdir(path.join(logs, jobDir))).sort(), ['build.log', 'lint.log']);
    assert.match(await readFile(path.join(logs, jobDir, 'build.log'), 'utf8'), /^compiling$/m);
  });

  test('max_parallel bounds the jobs running at once', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'app'));
    // Each job counts itself in while it runs; the highest count seen is the most that ran at once.
    const step = (job: string): string =>
      `mkdir -p "$RECORD.d"; touch "$RECORD.d/${job}"; n=$(ls "$RECORD.d" | wc -l); echo "$n" >> "$RECORD"; sleep 0.3; rm "$RECORD.d/${job}"`;
    const jobs = Object.fromEntries(['a', 'b', 'c', 'd'].map((j) => [j, { steps: [step(j)] }]));
    const project = await makeProject(t, { version: 1, repos: { app: { url: remote.url, max_parallel: 2, jobs } } });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const counts = (await project.record()).map(Number);
    assert.equal(counts.length, 4);
    assert.equal(Math.max(...counts), 2);
  });

  test('gitwatch cancel stops every running job and skips the ones not started; the run fails as canceled', async (t) => {
    const { project, daemon, running } = await sleepingJobs(t, ['a', 'b'], { after: { needs: ['a'], steps: ['echo after >> "$RECORD"'] } });
    const cancel = await project.cli('cancel', 'app');
    assert.equal(cancel.code, 0, cancel.stderr);
    await daemon.until(async () => (await project.state()).repos['app']?.lastRun?.status === 'failed', 'the run recorded');
    assert.equal((await project.state()).repos['app']?.lastRun?.error, 'canceled');
    const end = Date.now() + 3000;
    while (running.some(isAlive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(running.filter(isAlive), []);
    assert.deepEqual(await project.record(), []);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('SIGTERM while three jobs run stops every job and records the run interrupted', async (t) => {
    const { project, daemon, running } = await sleepingJobs(t, ['a', 'b', 'c'], { after: { needs: ['a'], steps: ['true'] } });
    assert.ok(running.every(isAlive));
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.deepEqual(running.filter(isAlive), []);
    const lastRun = (await project.state()).repos['app']?.lastRun;
    assert.equal(lastRun?.status, 'interrupted');
    assert.equal((await project.state()).repos['app']?.commit, undefined);
  });
});
