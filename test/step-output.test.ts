// A step's output under pressure: a huge line without a newline.

import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runStepProcess } from '../src/pipeline/step-process.js';
import { systemClock } from '../src/runtime/clock.js';
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
});
