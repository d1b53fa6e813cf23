import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { PipelineQueue, type Rank } from '../src/runtime/pipeline-queue.js';
import { Reloader } from '../src/supervisor/reloader.js';
import { backoffDelay } from '../src/supervisor/supervisor.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { configFor, supervise } from './helpers/supervised.js';
import { tempDir } from './helpers/temp.js';
import { stringify } from 'yaml';

const start = supervise;

describe('pipeline queue', () => {
  /** A task the test ends: `started` resolves when it runs, `end()` lets it finish. */
  function gated(order: string[], name: string) {
    let end: () => void = () => undefined;
    let started: () => void = () => undefined;
    const running = new Promise<void>((r) => (started = r));
    const task = () =>
      new Promise<void>((r) => {
        order.push(name);
        started();
        end = r;
      });
    return { task, running, end: () => end() };
  }
  const slot = (name: string, rank: Rank, group?: string) => ({ name, rank, group });

  test('runs one task at a time, and the waiting task first in the config (then by branch) goes next', async () => {
    const queue = new PipelineQueue();
    const order: string[] = [];
    let release: () => void = () => undefined;
    const first = queue.exclusive(slot('first', [5, '']), () => new Promise<void>((r) => (release = () => (order.push('first'), r()))));
    const push = (what: string) => () => Promise.resolve(void order.push(what));
    const later = [
      queue.exclusive(slot('r3', [3, '']), push('rank 3')),
      queue.exclusive(slot('r1@release/2.0', [1, 'release/2.0']), push('rank 1 release/2.0')),
      queue.exclusive(slot('r1@release/1.0', [1, 'release/1.0']), push('rank 1 release/1.0')),
      queue.exclusive(slot('r2', [2, '']), push('rank 2')),
    ];
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(order, []);
    assert.equal(queue.waitingFor('r2'), 'behind first');
    release();
    await Promise.all([first, ...later]);
    assert.deepEqual(order, ['first', 'rank 1 release/1.0', 'rank 1 release/2.0', 'rank 2', 'rank 3']);
  });

  test('runs up to its capacity at once; a group never runs two at once, and holds back only its own', async () => {
    const queue = new PipelineQueue(2);
    const order: string[] = [];
    const api = gated(order, 'api');
    const web = gated(order, 'web');
    const db = gated(order, 'db');
    const docs = gated(order, 'docs');
    const reasons: string[] = [];
    const runs = [
      queue.exclusive(slot('api', [0, ''], 'deploy'), api.task),
      queue.exclusive(slot('web', [1, ''], 'deploy'), web.task, (why) => reasons.push(`web ${why}`)),
      queue.exclusive(slot('db', [2, '']), db.task),
      queue.exclusive(slot('docs', [3, '']), docs.task, (why) => reasons.push(`docs ${why}`)),
    ];
    await Promise.all([api.running, db.running]);
    // web waits for its group, not for a free slot; docs waits for a slot.
    assert.deepEqual(order, ['api', 'db']);
    assert.equal(queue.waitingFor('web'), 'group deploy: api');
    assert.equal(queue.waitingFor('docs'), 'behind api, db');
    assert.deepEqual(reasons, ['web group deploy: api', 'docs behind api, db']);
    db.end();
    await docs.running;
    assert.deepEqual(order, ['api', 'db', 'docs'], 'a free slot goes to docs: web is still held by its group');
    api.end();
    await web.running;
    web.end();
    docs.end();
    await Promise.all(runs);
    assert.deepEqual(order, ['api', 'db', 'docs', 'web']);
  });

  test('a larger capacity after a reload starts waiting tasks at once', async () => {
    const queue = new PipelineQueue(1);
    const order: string[] = [];
    const a = gated(order, 'a');
    const b = gated(order, 'b');
    const runs = [queue.exclusive(slot('a', [0, '']), a.task), queue.exclusive(slot('b', [1, '']), b.task)];
    await a.running;
    assert.equal(queue.waitingFor('b'), 'behind a');
    queue.resize(2);
    await b.running;
    a.end();
    b.end();
    await Promise.all(runs);
  });
});

describe('supervisor', () => {
  test('checks every repo at start, then once per interval', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const s = await start(t, dir, { site: { url: remote.url, interval: '10s', pipeline: ['true'] } });
    await s.settled();
    assert.equal(s.worker('site').checks, 1);
    assert.equal(s.worker('site').nextCheckAt?.getTime(), s.clock.now().getTime() + 10_000);
    s.clock.advance(9_999);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.worker('site').checks, 1, 'checked before the interval was over');
    s.clock.advance(1);
    await s.supervisor.until((w) => w[0]?.checks === 2);
    await s.settled();
    assert.equal(s.reporter.of('run-finished').length, 1, 'an unchanged remote ran again');
  });

  test('a new commit runs on the next check', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const s = await start(t, dir, { site: { url: remote.url, interval: '1m', pipeline: ['true'] } });
    await s.settled();
    const sha = await remote.commit();
    s.clock.advance(60_000);
    await s.supervisor.until((w) => w[0]?.checks === 2);
    await s.settled();
    assert.deepEqual(
      s.reporter.of('run-finished').map((e) => [e.commit, e.status]),
      [
        [remote.git('rev-parse', 'HEAD~1'), 'succeeded'],
        [sha, 'succeeded'],
      ],
    );
  });

  test('a remote that is down backs off, doubling, and does not slow the others', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const s = await start(t, dir, {
      // Nothing listens on port 1: the connection is refused, a transient failure.
      down: { url: 'git://127.0.0.1:1/none.git', interval: '10s', pipeline: ['true'] },
      site: { url: remote.url, interval: '10s', pipeline: ['true'] },
    });
    await s.settled();
    const delays: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const w = s.worker('down');
      assert.equal(w.phase, 'backoff');
      delays.push((w.nextCheckAt?.getTime() ?? 0) - s.clock.now().getTime());
      s.clock.advance(delays[delays.length - 1] ?? 0);
      await s.supervisor.until((ws) => (ws.find((x) => x.repo === 'down')?.checks ?? 0) === i + 1);
      await s.settled();
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000]);
    // The healthy repo kept its own 10 s schedule: due at every step of the clock, it was checked each time.
    assert.equal(s.worker('site').checks, 5);
    assert.equal(s.worker('site').phase, 'idle');
    assert.equal(s.worker('site').nextCheckAt?.getTime(), s.clock.now().getTime() + 10_000);
    assert.equal(backoffDelay(10_000, 10), 300_000, 'backoff is capped');
    assert.equal(s.reporter.of('check-failed').filter((e) => e.repo === 'down').length, 1, 'a cause that repeats is reported once');
  });

  test('a permanent failure backs off like any other, doubling from the interval, and is reported once until it changes', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const s = await start(t, dir, {
      gone: { url: path.join(dir, 'missing'), interval: '10s', pipeline: ['true'] },
      site: { url: remote.url, interval: '10s', pipeline: ['true'] },
    });
    await s.settled();
    for (let i = 1; i <= 3; i++) {
      const w = s.worker('gone');
      assert.equal(w.phase, 'backoff');
      // A missing repository can be created at any moment: it waits no longer than a refused connection.
      assert.equal((w.nextCheckAt?.getTime() ?? 0) - s.clock.now().getTime(), 10_000 * 2 ** (i - 1));
      assert.match(w.lastCheckError ?? '', /repository not found/);
      s.clock.advance(10_000 * 2 ** (i - 1));
      await s.supervisor.until((ws) => (ws.find((x) => x.repo === 'gone')?.checks ?? 0) === i + 1);
      await s.settled();
    }
    const reported = s.reporter.of('check-failed').filter((e) => e.repo === 'gone');
    assert.deepEqual(
      reported.map((e) => e.kind),
      ['not-found'],
    );
    // Fixed: the repo appears, its next check succeeds and the failure is forgotten.
    await TestRepo.create(path.join(dir, 'missing'));
    s.clock.advance(80_000);
    await s.supervisor.until((ws) => (ws.find((x) => x.repo === 'gone')?.checks ?? 0) === 5);
    await s.settled();
    assert.equal(s.worker('gone').phase, 'idle');
    assert.equal(s.worker('gone').lastCheckError, undefined);
    assert.equal(s.worker('gone').nextCheckAt?.getTime(), s.clock.now().getTime() + 10_000);
  });

  test('pipelines run one at a time', async (t) => {
    const dir = await tempDir(t);
    const a = await TestRepo.create(path.join(dir, 'a'));
    const b = await TestRepo.create(path.join(dir, 'b'));
    const step = 'echo "start $GITWATCH_REPO" >> "$RECORD"; sleep 0.3; echo "end $GITWATCH_REPO" >> "$RECORD"';
    const s = await start(t, dir, { a: { url: a.url, pipeline: [step] }, b: { url: b.url, pipeline: [step] } });
    await s.settled();
    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(path.join(dir, 'record.txt'), 'utf8')).trim().split('\n');
    // Each repo checks on its own schedule, so either may go first; they never overlap.
    assert.equal(lines.length, 4);
    assert.deepEqual([lines[0]?.split(' ')[0], lines[1]?.split(' ')[0], lines[2]?.split(' ')[0], lines[3]?.split(' ')[0]], ['start', 'end', 'start', 'end']);
    assert.equal(lines[0]?.split(' ')[1], lines[1]?.split(' ')[1]);
  });

  test('trigger runs the pipeline of an up-to-date repo', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const s = await start(t, dir, { site: { url: remote.url, interval: '1h', pipeline: ['true'] } });
    await s.settled();
    assert.equal(s.supervisor.trigger('site'), true);
    assert.equal(s.supervisor.trigger('nope'), false);
    await s.supervisor.until((w) => w[0]?.checks === 2);
    await s.settled();
    assert.equal(s.reporter.of('run-finished').length, 2);
  });

  test('a new config adds, removes and changes repos without touching the others', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const s = await start(t, dir, {
      keep: { url: remote.url, interval: '1h', pipeline: ['true'] },
      gone: { url: remote.url, interval: '1h', pipeline: ['true'] },
      edit: { url: remote.url, interval: '1h', pipeline: ['true'] },
    });
    await s.settled();
    const result = s.supervisor.apply(
      configFor(dir, {
        keep: { url: remote.url, interval: '1h', pipeline: ['true'] },
        edit: { url: remote.url, interval: '1h', pipeline: ['echo changed'] },
        added: { url: remote.url, interval: '1h', pipeline: ['true'] },
      }),
    );
    assert.deepEqual(result, { added: ['added'], removed: ['gone'], changed: ['edit'] });
    await s.supervisor.until((w) => w.find((x) => x.repo === 'added')?.checks === 1 && w.find((x) => x.repo === 'edit')?.checks === 2);
    await s.settled();
    assert.deepEqual(
      s.supervisor.snapshot().map((w) => [w.repo, w.checks]),
      [
        ['keep', 1],
        ['edit', 2],
        ['added', 1],
      ],
    );
  });
});

describe('reloader', () => {
  async function reloading(t: import('node:test').TestContext) {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const repos = { site: { url: remote.url, interval: '1h', pipeline: ['true'] } };
    const s = await start(t, dir, repos);
    const file = path.join(dir, 'gitwatch.yaml');
    const text = stringify({ version: 1, repos });
    await writeFile(file, text);
    const controller = new AbortController();
    t.after(() => controller.abort());
    const reloader = new Reloader({
      file: 'gitwatch.yaml',
      absolutePath: file,
      text,
      supervisor: s.supervisor,
      reporter: s.reporter,
      clock: s.clock,
      env: {},
      signal: controller.signal,
    });
    await s.settled();
    /** Writes the file, lets the debounce pass, and waits for the reload to finish. */
    const edit = async (content: string, force = false): Promise<void> => {
      await writeFile(file, content);
      reloader.schedule(force);
      s.clock.advance(150);
      await new Promise((r) => setImmediate(r));
      await reloader.idle();
    };
    return { ...s, remote, edit, controller };
  }

  test('applies a valid edit per repo and ignores a write that changes nothing', async (t) => {
    const r = await reloading(t);
    const repos = { site: { url: r.remote.url, interval: '1h', pipeline: ['true'] }, docs: { url: r.remote.url, interval: '1h', pipeline: ['true'] } };
    await r.edit(stringify({ version: 1, repos }));
    assert.deepEqual(r.reporter.of('config-reloaded'), [{ type: 'config-reloaded', added: ['docs'], removed: [], changed: [] }]);
    await r.edit(stringify({ version: 1, repos }));
    assert.equal(r.reporter.of('config-reloaded').length, 1, 'the same text is not applied twice');
    await r.edit(stringify({ version: 1, repos }), true);
    assert.equal(r.reporter.of('config-reloaded').length, 2, 'SIGHUP applies it anyway');
    // The added repo's first check runs now: let it end before the temp folder goes.
    await r.supervisor.until((w) => w.every((x) => x.checks >= 1));
    await r.settled();
  });

  test('a broken edit is reported like validate, through the reporter, and the running config stays', async (t) => {
    const r = await reloading(t);
    await r.edit(`version: 1\nrepos:\n  site:\n    url: ${r.remote.url}\n    interval: soon\n    pipeline: [ "true" ]\n`);
    const [rejected] = r.reporter.of('config-rejected');
    assert.equal(rejected?.problems, 1);
    assert.match(rejected?.detail ?? '', /^gitwatch\.yaml:5:15: expected a duration .* \(at repos\.site\.interval\)\n5 \| {5}interval: soon\n/);
    assert.equal(r.supervisor.config.repos[0]?.intervalMs, 3_600_000);
  });

  test("moving 'state' or 'workdir' needs a restart: the running config stays", async (t) => {
    const r = await reloading(t);
    await r.edit(stringify({ version: 1, state: 'elsewhere.json', repos: { site: { url: r.remote.url, interval: '1h', pipeline: ['true'] } } }));
    await r.edit(stringify({ version: 1, workdir: 'other', repos: { site: { url: r.remote.url, interval: '1h', pipeline: ['true'] } } }));
    assert.deepEqual(
      r.reporter.of('config-rejected').map((e) => e.detail),
      ["gitwatch: gitwatch.yaml: 'state' changed; restart gitwatch to apply it", "gitwatch: gitwatch.yaml: 'workdir' changed; restart gitwatch to apply it"],
    );
    assert.equal(r.reporter.of('config-reloaded').length, 0);
  });
});
