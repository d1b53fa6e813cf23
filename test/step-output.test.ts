// A step's output under pressure: a huge line without a newline, and a reader slower than the step.

import assert from 'node:assert/strict';
import { createWriteStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { runStepProcess } from '../src/pipeline/step-process.js';
import { systemClock } from '../src/runtime/clock.js';
import { PlainReporter } from '../src/runtime/line-reporter.js';
import { tempDir, testEnv, testProcesses } from './helpers/temp.js';

const MiB = 1024 * 1024;

async function closeLog(log: ReturnType<typeof createWriteStream>): Promise<void> {
  await new Promise<void>((resolve) => log.end(resolve));
}

describe('step output', () => {
  test('a 16 MiB line without a newline is cut for events, and the run log keeps every byte', async (t) => {
    const dir = await tempDir(t);
    const logFile = path.join(dir, 'run.log');
    const log = createWriteStream(logFile);
    const lines: string[] = [];
    const result = await runStepProcess({
      command: `head -c ${16 * MiB} /dev/zero | tr '\\0' x; echo; echo next; printf 'crlf\\r\\n'; printf tail`,
      cwd: dir,
      env: testEnv(dir),
      timeoutMs: 120_000,
      clock: systemClock,
      groups: testProcesses(),
      log,
      onLine: (line) => lines.push(line),
    });
    await closeLog(log);
    assert.equal(result.status, 'succeeded');
    assert.equal(lines.length, 4);
    const [long, ...rest] = lines;
    assert.ok(long !== undefined && long.length <= 64 * 1024 + 100, `a line of ${long?.length} characters was kept`);
    assert.match(long, /^x+ … \(line cut at 64 KiB\)$/);
    assert.deepEqual(rest, ['next', 'crlf', 'tail']);
    assert.equal((await stat(logFile)).size, 16 * MiB + 1 + 5 + 6 + 4);
  });

  test('a slow reader slows the step instead of filling memory', async (t) => {
    const dir = await tempDir(t);
    const logFile = path.join(dir, 'run.log');
    const marker = path.join(dir, 'finished');
    const log = createWriteStream(logFile);
    let lines = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let released = false;
    const step = runStepProcess({
      command: `head -c ${20 * MiB} /dev/zero | tr '\\0' '\\n'; touch '${marker}'`,
      cwd: dir,
      env: testEnv(dir),
      timeoutMs: 120_000,
      clock: systemClock,
      groups: testProcesses(),
      log,
      onLine: () => lines++,
      // The reader is behind until the test lets it catch up.
      backlog: () => (released ? undefined : gate),
    });
    const until = Date.now() + 10_000;
    while (lines === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.ok(lines > 0, 'no output arrived');
    // Long enough for the whole output to pass when nothing holds it back (it takes about 0.1 s).
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(existsSync(marker), false, 'the step ran to its end while its reader was behind');
    assert.ok(lines < MiB, `${lines} lines were read while the reader was behind`);
    released = true;
    open();
    const result = await step;
    await closeLog(log);
    assert.equal(result.status, 'succeeded');
    assert.equal(existsSync(marker), true);
    assert.equal(lines, 20 * MiB);
    assert.equal((await stat(logFile)).size, 20 * MiB);
  });

  test('the plain reporter has a backlog while its stream is over its buffer, until it drains', async () => {
    const writes: (() => void)[] = [];
    const out = new Writable({ highWaterMark: 16, write: (_chunk, _enc, done) => void writes.push(done) });
    const reporter = new PlainReporter({ out, err: out, verbosity: 'verbose' });
    assert.equal(reporter.backlog(), undefined);
    reporter.emit({ type: 'step-output', repo: 'site', step: 'build', index: 0, line: 'a line longer than sixteen bytes' });
    const waiting = reporter.backlog();
    assert.ok(waiting !== undefined, 'no backlog while the stream is full');
    let drained = false;
    void waiting.then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    while (writes.length > 0) writes.shift()?.();
    await waiting;
    assert.equal(reporter.backlog(), undefined);
  });
});
