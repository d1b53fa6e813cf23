// The time limits of HTTP checks share one sleep: the earliest due ends first, a finished check never
// ends, a stopped one ends at once, and nothing sleeps once no check is left.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadlines } from '../src/git/deadlines.js';
import { FakeClock } from './helpers/fake-clock.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('one sleep for many checks; each ends on its own time, or not at all once done', async () => {
  const clock = new FakeClock();
  const deadlines = new Deadlines(clock);
  const ended: string[] = [];
  const a = deadlines.start(1000, undefined);
  const b = deadlines.start(3000, undefined);
  const c = deadlines.start(2000, undefined);
  for (const [name, d] of [
    ['a', a],
    ['b', b],
    ['c', c],
  ] as const)
    d.deadline.watch(() => ended.push(name));
  assert.equal(clock.pending, 1, 'a sleep for each check');
  c.done();
  clock.advance(1000);
  await settle();
  assert.deepEqual(ended, ['a']);
  assert.equal(a.deadline.ended, 'timeout');
  clock.advance(1000);
  await settle();
  assert.deepEqual(ended, ['a'], 'a finished check ended');
  clock.advance(1000);
  await settle();
  assert.deepEqual(ended, ['a', 'b']);
  a.done();
  b.done();
  assert.equal(clock.pending, 0, 'a sleep is left');
});

test('a stopped check ends at once, and the last one done leaves no sleep', async () => {
  const clock = new FakeClock();
  const deadlines = new Deadlines(clock);
  const stop = new AbortController();
  const check = deadlines.start(60_000, stop.signal);
  let why = '';
  check.deadline.watch((error) => (why = error.message));
  stop.abort();
  assert.equal(check.deadline.ended, 'aborted');
  assert.match(why, /stopped/);
  check.done();
  await settle();
  assert.equal(clock.pending, 0);
  const late = deadlines.start(10, stop.signal);
  assert.equal(late.deadline.ended, 'aborted', 'a check started after the stop');
  late.done();
});
