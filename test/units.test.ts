import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { RepoConfig } from '../src/config/types.js';
import { decide, retryWaitMs } from '../src/cycle/decide.js';
import { branchNameProblem } from '../src/rules/ref-name.js';
import { runCause } from '../src/runtime/run-words.js';
import { parseRemote, redactUrls } from '../src/rules/remote-url.js';
import { acquireInstanceLock } from '../src/state/instance-lock.js';
import { readState, writeState, type State } from '../src/state/state-file.js';
import { tempDir, testProcesses } from './helpers/temp.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const REPO = { name: 'site', displayUrl: 'https://example.com/site.git' } as RepoConfig;
const HEAD = { sha: B, branch: 'main' };
const run = (commit: string, status: 'succeeded' | 'failed' | 'interrupted') => ({ commit, status, startedAt: '', finishedAt: '' });

describe('decide', () => {
  test('a repo never seen runs', () => assert.deepEqual(decide(REPO, HEAD, undefined), { action: 'run', reason: 'first', attempt: 1 }));
  test('the same commit does nothing', () => assert.equal(decide(REPO, HEAD, { commit: B, branch: 'main', url: REPO.displayUrl }).action, 'up-to-date'));
  test('a new commit runs', () =>
    assert.deepEqual(decide(REPO, HEAD, { commit: A, branch: 'main', url: REPO.displayUrl }), { action: 'run', reason: 'new-commit', attempt: 1 }));
  test('a commit that failed waits', () =>
    assert.equal(decide(REPO, HEAD, { commit: A, branch: 'main', url: REPO.displayUrl, lastRun: run(B, 'failed') }).action, 'wait'));
  test('a commit that was interrupted runs again', () =>
    assert.deepEqual(decide(REPO, HEAD, { commit: A, branch: 'main', url: REPO.displayUrl, lastRun: run(B, 'interrupted') }), {
      action: 'run',
      reason: 'retry-interrupted',
      attempt: 1,
    }));
  test('an interrupted try runs again as the same try, not as a first one', () =>
    assert.deepEqual(decide(REPO, HEAD, { commit: A, branch: 'main', url: REPO.displayUrl, lastRun: { ...run(B, 'interrupted'), attempt: 2 } }), {
      action: 'run',
      reason: 'retry-interrupted',
      attempt: 2,
    }));
  test('a changed url or branch runs even at the same commit', () => {
    assert.equal(decide(REPO, HEAD, { commit: B, branch: 'main', url: 'https://other/x.git' }).action, 'run');
    assert.equal(decide(REPO, HEAD, { commit: B, branch: 'dev', url: REPO.displayUrl }).action, 'run');
  });
  test('a head that failed after a branch change waits instead of running every cycle', () =>
    assert.equal(decide(REPO, HEAD, { commit: A, branch: 'old', url: REPO.displayUrl, lastRun: run(B, 'failed') }).action, 'wait'));
  test('with retry, a failed commit waits its backoff, doubling per try, then runs; canceled and used-up tries wait', () => {
    const repo = { ...REPO, retry: { attempts: 2, backoffMs: 10_000 } } as RepoConfig;
    const failed = (attempt: number, error = 'step exited 1') => ({
      commit: B,
      status: 'failed' as const,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:00.000Z',
      attempt,
      error,
    });
    const at = (ms: number): number => Date.parse('2026-01-01T00:00:00.000Z') + ms;
    const entry = (attempt: number, error?: string) => ({ commit: A, branch: 'main', url: REPO.displayUrl, lastRun: failed(attempt, error) });
    assert.deepEqual(decide(repo, HEAD, entry(1), false, at(9_999)), {
      action: 'wait',
      reason: 'failed before; try 2 of 3 at 2026-01-01T00:00:10.000Z',
      retryAt: at(10_000),
    });
    assert.deepEqual(decide(repo, HEAD, entry(1), false, at(10_000)), { action: 'run', reason: 'retry', attempt: 2 });
    assert.equal(decide(repo, HEAD, entry(2), false, at(19_999)).action, 'wait');
    assert.deepEqual(decide(repo, HEAD, entry(2), false, at(20_000)), { action: 'run', reason: 'retry', attempt: 3 });
    assert.equal(decide(repo, HEAD, entry(3), false, at(3_600_000)).action, 'wait');
    assert.equal(decide(repo, HEAD, entry(1, 'canceled'), false, at(3_600_000)).action, 'wait');
    assert.equal(retryWaitMs(10_000, 30), 3_600_000);
  });
  test('trigger runs whatever the state', () => assert.equal(decide(REPO, HEAD, { commit: B, branch: 'main', url: REPO.displayUrl }, true).action, 'run'));
});

describe('why a run starts, in words', () => {
  const cases: [Parameters<typeof runCause>[0], string][] = [
    [{ reason: 'first', previousCommit: undefined }, 'first run'],
    [{ reason: 'new-commit', previousCommit: A }, `was ${A.slice(0, 12)}`],
    [{ reason: 'moved', previousCommit: A }, `url or branch changed, was ${A.slice(0, 12)}`],
    [{ reason: 'retry-interrupted', previousCommit: undefined }, 'interrupted before; runs again'],
    [{ reason: 'retry-interrupted', previousCommit: A, attempt: 2 }, `interrupted before; runs again, was ${A.slice(0, 12)}, try 2`],
    [{ reason: 'retry', previousCommit: undefined, attempt: 3 }, 'failed before, try 3'],
    [{ reason: 'trigger', previousCommit: undefined }, 'triggered'],
    [{ reason: 'trigger', previousCommit: A }, `triggered, was ${A.slice(0, 12)}`],
  ];
  for (const [start, words] of cases)
    test(`${start.reason}${start.previousCommit ? ' after a commit' : ''}: ${words}`, () => assert.equal(runCause(start), words));
});

describe('remote URLs', () => {
  test('accepts the allowed transports', () => {
    for (const url of ['https://h/x.git', 'http://h/x', 'ssh://git@h:22/x', 'git@github.com:org/x.git', 'git://h/x', 'file:///srv/x', '../x', '/srv/x']) {
      assert.equal(parseRemote(url, '/base').ok, true, url);
    }
  });
  test('rejects options, helper transports and control characters', () => {
    for (const url of [
      'ssh://git:secret@h/x',
      'git://u:p@h/x',
      '-u',
      '--upload-pack=x',
      'ext::sh -c x',
      'fd::3',
      'foo::bar',
      'ftp://h/x',
      'https://h/x\nq',
      'ssh://-oProxyCommand=x/y',
      'x'.repeat(3000),
      // A '%' that starts no escape: rejected, not thrown.
      'https://%@example.com/site.git',
      'https://u:50%off@example.com/site.git',
    ]) {
      assert.equal(parseRemote(url, '/base').ok, false, url);
    }
  });
  test('takes credentials out of http(s) URLs', () => {
    const r = parseRemote('https://user:tok%40en@h.example/x.git', '/base');
    assert.ok(r.ok);
    assert.equal(r.value.remote, 'https://h.example/x.git');
    assert.deepEqual(r.value.credentials, { username: 'user', password: 'tok@en' });
    assert.equal(redactUrls("fatal: unable to access 'https://user:tok@h/x/'"), "fatal: unable to access 'https://h/x/'");
  });
  test('branch names follow git check-ref-format', () => {
    for (const ok of ['main', 'release/1.x', 'feature/a-b_c', 'v1.2']) assert.equal(branchNameProblem(ok), undefined, ok);
    for (const bad of [
      '-x',
      'a..b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[',
      'a\\b',
      '/a',
      'a/',
      'a//b',
      '.a',
      'a/.b',
      'a.lock',
      'a.',
      '@',
      'a@{1}',
      'refs/heads/main',
      'x'.repeat(256),
      'a\u0001',
    ])
      assert.notEqual(branchNameProblem(bad), undefined, bad);
  });
});

describe('state file', () => {
  test('is written with sorted keys, two-space indent, a trailing newline, owner-only', async (t) => {
    const file = path.join(await tempDir(t), 'state.json');
    const state: State = {
      version: 1,
      repos: { z: { url: 'u', commit: A, branch: 'main' }, a: { lastRun: { status: 'failed', commit: B, startedAt: 's', finishedAt: 'f', error: 'e' } } },
    };
    await writeState(file, state, process.pid);
    const text = await readFile(file, 'utf8');
    assert.equal(
      text,
      `{\n  "repos": {\n    "a": {\n      "lastRun": {\n        "commit": "${B}",\n        "error": "e",\n        "finishedAt": "f",\n        "startedAt": "s",\n        "status": "failed"\n      }\n    },\n    "z": {\n      "branch": "main",\n      "commit": "${A}",\n      "url": "u"\n    }\n  },\n  "version": 1\n}\n`,
    );
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readState(file), JSON.parse(text));
  });
  test('a missing file is an empty state; a malformed one is an error that names it', async (t) => {
    const dir = await tempDir(t);
    assert.deepEqual(await readState(path.join(dir, 'none.json')), { version: 1, repos: {} });
    for (const bad of ['{', '[]', '{"version":2,"repos":{}}', '{"version":1,"repos":{"a":{"commit":"xyz"}}}']) {
      await writeFile(path.join(dir, 'bad.json'), bad);
      await assert.rejects(readState(path.join(dir, 'bad.json')), /bad\.json/);
    }
  });
});

describe('instance lock', () => {
  test('a second holder is refused with the pid; a dead holder is taken over', async (t) => {
    const state = path.join(await tempDir(t), 'state.json');
    const lock = await acquireInstanceLock(state, testProcesses());
    // The holder is this test process, whose command line does not say gitwatch: use a live gitwatch-like pid.
    await lock.release();
    await writeFile(`${state}.pid`, '999999999\n');
    const taken = await acquireInstanceLock(state, testProcesses());
    assert.equal((await readFile(`${state}.pid`, 'utf8')).trim(), String(process.pid));
    await taken.release();
    await assert.rejects(readFile(`${state}.pid`), /ENOENT/);
  });
});

describe('text table', () => {
  test('fits a width by cutting the widest columns with …, and leaves cells whole without one', async () => {
    const { textTable } = await import('../src/cli/table.js');
    const rows = [['site', 'main', 'succeeded: every step passed']];
    assert.deepEqual(textTable(['REPO', 'BRANCH', 'RESULT'], rows), ['REPO  BRANCH  RESULT', 'site  main    succeeded: every step passed']);
    const fitted = textTable(['REPO', 'BRANCH', 'RESULT'], rows, 30);
    assert.deepEqual(fitted, ['REPO  BRANCH  RESULT', 'site  main    succeeded: ever…']);
    assert.ok(fitted.every((l) => l.length <= 30));
  });
});
