import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { BIN } from './helpers/cli.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

test('a reader that goes away (`gitwatch once | head -1`) neither kills the run nor leaves a trace', async (t) => {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  // Each step waits a moment, so most output is written after the reader has gone.
  const steps = ['one', 'two', 'three'].map((name) => ({ name, run: `sleep 0.3; echo ${name}; ${RECORD_STEP}` }));
  const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: steps } } });
  const child = spawn(process.execPath, [BIN, 'once'], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let first = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      first += d.toString();
      // What `head -1` does: read one line, then close the pipe.
      if (first.includes('\n')) {
        child.stdout.destroy();
        resolve();
      }
    });
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.match(first, /^site ▶ /);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  assert.deepEqual(
    (await project.record()).map((l) => l.split('step=')[1]),
    ['one', 'two', 'three'],
  );
  const state = await project.state();
  assert.equal(state.repos['site']?.lastRun?.status, 'succeeded');
  assert.equal(state.repos['site']?.commit, remote.head());
  assert.equal(existsSync(`${project.statePath}.pid`), false, 'the pid file was left behind');
});

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
  const events = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; line?: string });
  assert.deepEqual(
    events.filter((e) => e.event === 'step-output').map((e) => e.line),
    ['café ok'],
  );
});

/** The resident memory of a process, in MiB, or undefined once it has gone. */
async function rssMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

test('`once -v` to a reader that stalls slows the step, and gitwatch does not keep its output in memory', async (t) => {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const marker = path.join(await tempDir(t), 'printed');
  const lines = 1_000_000;
  // 100 MiB of output: when nothing holds it back, gitwatch has read it all in about a second.
  const run = `yes "$(printf '%099d' 0)" | head -n ${lines}; touch '${marker}'`;
  const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [{ name: 'loud', run }] } } });
  const child = spawn(process.execPath, [BIN, 'once', '-v'], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid ?? 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A reader that reads the first lines, then stops, as `gitwatch once -v | (sleep 15; cat)` does.
  let shown = 0;
  let partial = '';
  let stalled = true;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    const got = (partial + d).split('\n');
    partial = got.pop() ?? '';
    shown += got.filter((l) => l.startsWith('site loud │ 000')).length;
    if (shown > 0 && stalled) child.stdout.pause();
  });
  while (shown === 0) await new Promise((r) => setTimeout(r, 10));
  let peak = 0;
  for (const until = Date.now() + 5000; Date.now() < until && !existsSync(marker);) {
    peak = Math.max(peak, (await rssMiB(pid)) ?? 0);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(existsSync(marker), false, `the step printed all its output while nobody read it (gitwatch at ${peak.toFixed(0)} MiB)`);
  assert.ok(peak > 0 && peak < 200, `gitwatch grew to ${peak.toFixed(0)} MiB while its reader was behind`);
  // The reader catches up: every line arrives, and the run succeeds.
  stalled = false;
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(shown, lines);
  assert.equal(existsSync(marker), true);
});
