// The system clock's sleeps: long ones share wake-ups, short ones are exact, and none holds the process open once abandoned.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COALESCE_FROM_MS, COALESCE_MS, systemClock } from '../src/runtime/clock.js';

test('a long sleep ends on the next whole second, never early; a shorter one ends exactly', async (t) => {
  const start = 1_700_000_000_300;
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: start });
  const ended: Record<string, number> = {};
  const long = systemClock.sleep(COALESCE_FROM_MS).then(() => (ended.long = Date.now()));
  const short = systemClock.sleep(COALESCE_FROM_MS - 1).then(() => (ended.short = Date.now()));
  t.mock.timers.tick(COALESCE_FROM_MS - 1);
  await short;
  assert.equal(ended.short, start + COALESCE_FROM_MS - 1);
  const second = Math.ceil((start + COALESCE_FROM_MS) / COALESCE_MS) * COALESCE_MS;
  t.mock.timers.tick(second - 1 - Date.now());
  await Promise.resolve();
  assert.equal(ended.long, undefined, 'the long sleep ended before its whole second');
  t.mock.timers.tick(1);
  await long;
  assert.equal(ended.long, second);
  assert.ok(second - start - COALESCE_FROM_MS < COALESCE_MS);
});

test('sleeps that end in the same second share one timer, and aborting them all lets the process go', async () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const stop = new AbortController();
  // 200 sleeps spread over 400 ms end in at most two whole seconds.
  const sleeps = Array.from({ length: 200 }, (_, i) => systemClock.sleep(30_000 + i * 2, stop.signal));
  assert.ok(timers() - before <= 2, `${timers() - before} timers for 200 sleeps`);
  stop.abort();
  await Promise.all(sleeps);
  assert.equal(timers(), before, 'an abandoned sleep still holds a timer');
});
