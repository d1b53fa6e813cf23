// The system clock's sleeps: long ones share wake-ups, short ones are exact, and none holds the process open once abandoned.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalescingSleep, systemClock } from '../src/runtime/clock.js';

test('long sleeps due within one step end together on it, never early; a shorter sleep ends on its own time', async () => {
  // The system clock's code with a step of 500 ms instead of a second, so the test is short.
  const step = 500;
  const sleep = coalescingSleep(200, step);
  // Start just after a step: both sleeps below fall due inside the next one.
  await new Promise((resolve) => setTimeout(resolve, step - (performance.now() % step) + 5));
  const startA = performance.now();
  const a = sleep(300).then(() => performance.now());
  await new Promise((resolve) => setTimeout(resolve, 30));
  const startB = performance.now();
  const b = sleep(300).then(() => performance.now());
  const [endA, endB] = await Promise.all([a, b]);
  assert.ok(endA - startA >= 300 && endB - startB >= 300, `ended early: ${endA - startA} and ${endB - startB} ms`);
  assert.ok(Math.abs(endA - endB) < 5, `one step, two wake-ups: ${endA} and ${endB}`);
  // Shorter than the threshold: its own timer, never the step's. Here the next step is 10 s away, so a short
  // sleep moved onto it would take seconds, however late a loaded machine fires the timer.
  const far = coalescingSleep(200, 10_000, () => 1);
  const startC = performance.now();
  await far(150);
  const tookC = performance.now() - startC;
  assert.ok(tookC >= 150 - 1 && tookC < 5_000, `a short sleep was moved: ${tookC} ms`);
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
