// The daemon's scheduling under faults: backoff that ends with a success, a repo removed and added back
// while its pipeline runs, a state that cannot be written, and a bug or a local failure in one repo's turn.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { GitClient } from '../src/git/client.js';
import { startGitDaemon, TestRepo } from './helpers/git-fixtures.js';
import { configFor, supervise } from './helpers/supervised.js';
import { tempDir, testEnv, testProcesses } from './helpers/temp.js';

/** A TCP door in front of a server that the test opens and shuts: shut, every connection is dropped. */
async function door(t: TestContext, targetPort: number): Promise<{ port: number; open: boolean }> {
  const state = { port: 0, open: true };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (!state.open) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = (): void => void (client.destroy(), upstream.destroy());
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
  state.port = (server.address() as { port: number }).port;
  return state;
}

describe('supervisor under faults', () => {
  test('a success ends the backoff: the next failure starts again at the interval', async (t) => {
    const dir = await tempDir(t);
    await TestRepo.create(path.join(dir, 'served', 'site'));
    const daemon = await startGitDaemon(t, path.join(dir, 'served'));
    const gate = await door(t, daemon.port);
    const s = await supervise(t, dir, { site: { url: `git://127.0.0.1:${gate.port}/site`, interval: '10s', pipeline: ['true'] } });
    await s.settled();
    assert.equal(s.worker('site').phase, 'idle');
    gate.open = false;
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await s.nextCheck('site');
      delays.push(s.delay('site'));
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000]);
    gate.open = true;
    await s.nextCheck('site');
    assert.equal(s.worker('site').phase, 'idle');
    assert.equal(s.delay('site'), 10_000);
    gate.open = false;
    await s.nextCheck('site');
    assert.equal(s.worker('site').phase, 'backoff');
    assert.equal(s.delay('site'), 10_000, 'the backoff went on from where it was before the success');
  });

  test('a repo removed and added back while its pipeline runs waits for the old run to end', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const release = path.join(dir, 'release');
    const step = `echo "start $GITWATCH_COMMIT" >> "$RECORD"; while [ ! -e '${release}' ]; do sleep 0.05; done; echo "end $GITWATCH_COMMIT" >> "$RECORD"`;
    const other = { url: remote.url, interval: '1h', pipeline: ['true'] };
    const repos = { other, site: { url: remote.url, interval: '1h', pipeline: [step] } };
    const s = await supervise(t, dir, repos);
    const record = path.join(dir, 'record.txt');
    await s.supervisor.until((w) => w.find((x) => x.repo === 'site')?.phase === 'running');
    while (!(await readFile(record, 'utf8').catch(() => '')).includes('start')) await new Promise((r) => setTimeout(r, 20));
    const first = remote.head();
    const checkout = path.join(dir, '.gitwatch', 'site');
    const before = await readFile(path.join(checkout, 'README.md'), 'utf8');

    s.supervisor.apply(configFor(dir, { other }));
    await remote.commit({ 'README.md': 'changed\n' });
    s.supervisor.apply(configFor(dir, repos));
    // Long enough for a worker that did not wait to check, fetch and move the checkout.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.worker('site').checks, 0, 'the new worker checked while the old one still ran');
    assert.equal(await readFile(path.join(checkout, 'README.md'), 'utf8'), before, 'the checkout moved under the running step');

    await writeFile(release, '');
    await s.supervisor.until((w) => w.some((x) => x.repo === 'site' && x.checks >= 1 && x.phase === 'idle'));
    const lines = (await readFile(record, 'utf8')).trim().split('\n');
    assert.deepEqual(lines, [`start ${first}`, `end ${first}`, `start ${remote.head()}`, `end ${remote.head()}`]);
  });

  test('a state that cannot be written is reported as such, not as a failed check, and backs off', async (t) => {
    const dir = await tempDir(t);
    const remote = await TestRepo.create(path.join(dir, 'site'));
    const statePath = path.join(dir, '.gitwatch.lock.json');
    const s = await supervise(t, dir, { site: { url: remote.url, interval: '10s', pipeline: [`mkdir -p '${statePath}'`] } });
    await s.supervisor.until((w) => w[0]?.phase === 'backoff' || w[0]?.phase === 'idle');
    await s.settled();
    assert.equal(existsSync(path.join(statePath)), true);
    const [unsaved] = s.reporter.of('state-failed');
    assert.equal(unsaved?.status, 'succeeded');
    assert.match(unsaved?.error ?? '', /cannot write state file/);
    assert.deepEqual(s.reporter.of('check-failed'), []);
    assert.equal(s.worker('site').phase, 'backoff');
    assert.equal(s.delay('site'), 10_000);
  });
});

describe('containment: one worker’s bug', () => {
  test('is reported with its stack as that repo’s internal error; the repo backs off and starts again; the others run on', async (t) => {
    const dir = await tempDir(t);
    const site = await TestRepo.create(path.join(dir, 'site'));
    const broken = await TestRepo.create(path.join(dir, 'broken'));
    const env = testEnv(dir);
    const real = new GitClient(env, testProcesses());
    let bug = true;
    // The real client, but its check of one remote hits a bug: an exception that is no GitError.
    const git = new Proxy(real, {
      get(target, key, receiver) {
        if (key !== 'lsRemote') return Reflect.get(target, key, receiver) as unknown;
        return (store: string, remote: { url: string }, ...rest: unknown[]) => {
          if (bug && remote.url.includes('broken')) throw new TypeError("Cannot read properties of undefined (reading 'sha')");
          return (target.lsRemote as (...args: unknown[]) => unknown).call(target, store, remote, ...rest);
        };
      },
    });
    const failed: string[] = [];
    const s = await supervise(
      t,
      dir,
      { broken: { url: broken.url, interval: '10s', pipeline: ['true'] }, site: { url: site.url, interval: '10s', pipeline: ['true'] } },
      {},
      { git, onTurnFailed: (repo, kind) => void failed.push(`${repo} ${kind}`) },
    );
    await s.settled();
    const [event] = s.reporter.of('turn-failed');
    assert.equal(event?.repo, 'broken');
    assert.equal(event?.kind, 'internal');
    assert.match(event?.error ?? '', /^internal error \(this is a bug in gitwatch\): Cannot read properties/);
    assert.match(event?.stack ?? '', /TypeError: Cannot read properties[\s\S]*\n\s+at /);
    assert.deepEqual(failed, ['broken internal']);
    assert.equal(s.worker('broken').phase, 'backoff');
    assert.match(s.worker('broken').lastCheckError ?? '', /internal error/);
    assert.equal(s.worker('broken').lastErrorKind, 'internal');
    assert.deepEqual(
      s.reporter.of('run-finished').map((e) => [e.repo, e.status]),
      [['site', 'succeeded']],
    );
    // Said once while it repeats; counted every time.
    await s.nextCheck('broken');
    assert.equal(s.reporter.of('turn-failed').length, 1);
    assert.deepEqual(failed, ['broken internal', 'broken internal']);
    bug = false;
    await s.nextCheck('broken');
    assert.equal(s.worker('broken').phase, 'idle');
    assert.equal(s.worker('broken').lastCheckError, undefined);
    assert.deepEqual(
      s.reporter
        .of('run-finished')
        .map((e) => e.repo)
        .sort(),
      ['broken', 'site'],
    );
  });

  test('a local failure is reported as local, not as a failed check, and only that repo backs off', async (t) => {
    const dir = await tempDir(t);
    const site = await TestRepo.create(path.join(dir, 'site'));
    // The checkout path is a file: making the checkout fails on this machine, not at the remote.
    await writeFile(path.join(dir, 'not-a-folder'), '');
    const s = await supervise(t, dir, {
      broken: { url: site.url, interval: '10s', checkout: './not-a-folder', pipeline: ['true'] },
      site: { url: site.url, interval: '10s', pipeline: ['true'] },
    });
    await s.settled();
    assert.deepEqual(s.reporter.of('check-failed'), []);
    const [event] = s.reporter.of('turn-failed');
    assert.equal(event?.kind, 'local');
    assert.match(event?.error ?? '', /^local failure: .*not-a-folder/);
    assert.equal(event?.stack, undefined, 'a local failure is no bug: no stack');
    assert.equal(s.worker('broken').phase, 'backoff');
    assert.equal(s.delay('broken'), 10_000);
    assert.equal(s.worker('site').phase, 'idle');
  });
});
