// The admission rule and the schedule as tables: pure functions, no git, no clock.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admit, backoffDelay, nextCheck, type ScheduleInput } from '../src/cycle/schedule.js';
import type { RepoState } from '../src/state/state-file.js';

const follows = { displayUrl: 'https://example.com/site.git', branch: 'main', tag: undefined, semver: undefined, commit: undefined };
const repo = { name: 'site', target: undefined, enabled: true, ...follows };
const target = { name: 'r@release/1.0', target: { repo: 'r', pattern: 'release/*', folder: 'release-1.0' }, enabled: true, ...follows, branch: 'release/1.0' };
const OLD = 'a'.repeat(40);
const PINNED = { commit: OLD, reason: 'rollback', at: '2026-01-01T00:00:00.000Z', url: follows.displayUrl, ref: 'branch:main' } as const;
/** `paused` names paused entries; `pinned` names entries an operator pinned on site's url and main. */
const entries =
  (paused: readonly string[], pinned: readonly string[] = []) =>
  (name: string): RepoState | undefined => ({
    ...(paused.includes(name) ? { paused: true as const } : {}),
    ...(pinned.includes(name) ? { pinned: PINNED } : {}),
  });

describe('admit', () => {
  const cases: [string, Parameters<typeof admit>[0], readonly string[], boolean, string][] = [
    ['an enabled, unpaused repo', repo, [], false, 'admitted'],
    ['a paused repo', repo, ['site'], false, 'paused'],
    ['a paused repo, triggered', repo, ['site'], true, 'admitted'],
    ['a disabled repo', { ...repo, enabled: false }, [], false, 'disabled'],
    ['a disabled repo, triggered', { ...repo, enabled: false }, [], true, 'admitted'],
    ['a paused and disabled repo reads as paused', { ...repo, enabled: false }, ['site'], false, 'paused'],
    ['a target of a paused glob', target, ['r'], false, 'paused'],
    ['a paused target of a running glob', target, ['r@release/1.0'], false, 'paused'],
    ['a target of a paused glob, triggered', target, ['r'], true, 'admitted'],
    ['another repo paused', repo, ['api'], false, 'admitted'],
  ];
  for (const [what, r, paused, trigger, expected] of cases) {
    test(what, () => {
      const a = admit(r, entries(paused), trigger);
      assert.equal(a.admitted ? 'admitted' : a.hold, expected);
    });
  }

  // What an admitted repo may run: its head, or the commit it is pinned to.
  const pins: [string, Parameters<typeof admit>[0], readonly string[], readonly string[], boolean, string][] = [
    ['a pinned repo runs its pin', repo, [], ['site'], false, `rollback ${OLD}`],
    ['a pinned repo, triggered, still runs its pin', repo, [], ['site'], true, `rollback ${OLD}`],
    ['a paused and pinned repo is paused', repo, ['site'], ['site'], false, 'paused'],
    ['a pin made on another branch no longer holds', { ...repo, branch: 'next' }, [], ['site'], false, 'head'],
    ['a pin made on another url no longer holds', { ...repo, displayUrl: 'https://example.com/other.git' }, [], ['site'], false, 'head'],
    ["the config's commit: wins over a rollback", { ...repo, branch: undefined, commit: 'b'.repeat(40) }, [], ['site'], false, `config ${'b'.repeat(40)}`],
    ['a disabled repo with commit: is disabled', { ...repo, branch: undefined, commit: 'b'.repeat(40), enabled: false }, [], [], false, 'disabled'],
    ['an unpinned repo runs its head', repo, [], [], false, 'head'],
    ["a glob target's pin is its own", target, [], ['r'], false, 'head'],
  ];
  for (const [what, r, paused, pinned, trigger, expected] of pins) {
    test(what, () => {
      const a = admit(r, entries(paused, pinned), trigger);
      assert.equal(a.admitted ? (a.pin === undefined ? 'head' : `${a.pin.by} ${a.pin.commit}`) : a.hold, expected);
    });
  }

  test('a held repo says how to undo the hold', () => {
    const a = admit(target, entries(['r']), false);
    assert.ok(!a.admitted);
    assert.equal(a.reason, "paused; 'gitwatch resume r' checks it again");
  });
});

describe('nextCheck', () => {
  const base: ScheduleInput = {
    repo: { intervalMs: 10_000, retry: undefined },
    end: { kind: 'checked' },
    failures: 0,
    entry: undefined,
    now: Date.parse('2026-01-01T00:00:00Z'),
    random: 0,
  };

  test('after a good turn: the interval, up to 10% later', () => {
    assert.deepEqual(nextCheck(base), { delayMs: 10_000, why: 'interval' });
    assert.deepEqual(nextCheck({ ...base, random: 0.5 }), { delayMs: 10_500, why: 'interval' });
  });

  test('after failures: the interval, then twice it, doubling up to 5 minutes, whatever the cause', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 40].map((failures) => nextCheck({ ...base, end: { kind: 'failed' }, failures }).delayMs);
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    assert.equal(backoffDelay(10 * 60_000, 3), 10 * 60_000, 'an interval above 5 minutes is never shortened');
  });

  test('an unrecorded run backs off like a failure', () => {
    assert.deepEqual(nextCheck({ ...base, end: { kind: 'unrecorded' }, failures: 2 }), { delayMs: 20_000, why: 'backoff' });
  });

  test('a held or passive worker keeps no timer; an aborted turn looks again at once', () => {
    assert.deepEqual(nextCheck({ ...base, held: true }), { delayMs: undefined, why: 'woken' });
    assert.deepEqual(nextCheck({ ...base, end: { kind: 'failed' }, failures: 3, held: true }), { delayMs: undefined, why: 'woken' });
    assert.deepEqual(nextCheck({ ...base, passive: true }), { delayMs: undefined, why: 'woken' });
    assert.deepEqual(nextCheck({ ...base, end: { kind: 'aborted' } }), { delayMs: 0, why: 'woken' });
  });

  test('a retry due before the interval shortens the wait; one due later does not', () => {
    const failedAt = new Date(base.now).toISOString();
    const entry: RepoState = { lastRun: { commit: 'a'.repeat(40), status: 'failed', startedAt: failedAt, finishedAt: failedAt, attempt: 1 } };
    const retry = { attempts: 2, backoffMs: 3_000 };
    assert.deepEqual(nextCheck({ ...base, repo: { intervalMs: 10_000, retry }, entry }), { delayMs: 3_000, why: 'retry' });
    assert.deepEqual(nextCheck({ ...base, repo: { intervalMs: 2_000, retry }, entry }), { delayMs: 2_000, why: 'interval' });
    // Tries used up, or a person canceled it: no retry.
    const spent: RepoState = { lastRun: { ...entry.lastRun!, attempt: 3 } };
    assert.deepEqual(nextCheck({ ...base, repo: { intervalMs: 10_000, retry }, entry: spent }), { delayMs: 10_000, why: 'interval' });
    const canceled: RepoState = { lastRun: { ...entry.lastRun!, error: 'canceled' } };
    assert.deepEqual(nextCheck({ ...base, repo: { intervalMs: 10_000, retry }, entry: canceled }), { delayMs: 10_000, why: 'interval' });
    // Overdue: at once.
    assert.deepEqual(nextCheck({ ...base, repo: { intervalMs: 10_000, retry }, entry, now: base.now + 60_000 }), { delayMs: 0, why: 'retry' });
  });
});
