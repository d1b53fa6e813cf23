import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { connect } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { listeningUrl, push, send, sign } from './helpers/listen.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const SECRET = 'hook-s3cret-value';
const ran = async (project: Project, repo: string, sha: string): Promise<boolean> => (await project.record()).some((l) => l.startsWith(`${repo} ${sha} `));

interface Scrape {
  /** Family name → its type and its samples as label string → value. */
  readonly families: Map<string, { type: string; samples: Map<string, string> }>;
  readonly text: string;
}

/** /metrics through a Prometheus text-format parser, which throws on a malformed line. */
async function scrape(base: string): Promise<Scrape> {
  const answer = await send(`${base}/metrics`);
  assert.equal(answer.status, 200);
  const families = new Map<string, { type: string; samples: Map<string, string> }>();
  for (const family of parsePrometheusTextFormat(answer.body)) {
    const samples = new Map<string, string>();
    for (const m of family.metrics) samples.set(JSON.stringify(m.labels ?? {}), m.value ?? '');
    families.set(family.name, { type: family.type, samples });
  }
  return { families, text: answer.body };
}

const sample = (metrics: Scrape, name: string, labels: Record<string, string>): number =>
  Number(metrics.families.get(name)?.samples.get(JSON.stringify(labels)) ?? NaN);

describe('run --listen', () => {
  test('webhooks: signed pushes from GitHub, Gitea and GitLab start a check at once; anything else starts nothing', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: { url: remote.url, interval: '1h', webhook_secret: '${HOOK_SECRET}', pipeline: [RECORD_STEP] },
        plain: { url: remote.url, interval: '1h', pipeline: [RECORD_STEP] },
      },
    });
    const daemon = startDaemon(t, { ...project, env: { ...project.env, HOOK_SECRET: SECRET } }, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    await daemon.until(async () => (await ran(project, 'site', remote.head())) && ran(project, 'plain', remote.head()), 'the first runs');

    const sha = await remote.commit();
    const hook = `${base}/hooks/site`;
    const refused = [
      await send(hook, { method: 'POST', body: '{}' }),
      await send(hook, { ...push('github', 'wrong') }),
      await send(hook, { ...push('github', SECRET), body: '{"tampered":true}' }),
      await send(hook, { ...push('gitea', 'wrong') }),
      await send(hook, { ...push('gitlab', 'wrong') }),
      await send(hook, { method: 'POST', headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(63)}` }, body: '{}' }),
    ];
    assert.deepEqual(
      refused.map((a) => [a.status, a.body]),
      refused.map(() => [401, 'Unauthorized\n']),
    );
    const elsewhere = [
      await send(`${base}/hooks/plain`, push('github', SECRET)),
      await send(`${base}/hooks/nope`, push('github', SECRET)),
      await send(hook),
      await send(`${base}/nothing-here`),
      await send(`${base}/hooks/site/../../metrics`, push('github', SECRET)),
      await send(`${base}/metrics`, { method: 'POST' }),
      await send(`${base}/healthz`, { method: 'DELETE' }),
    ];
    assert.deepEqual(
      elsewhere.map((a) => [a.status, a.body]),
      elsewhere.map(() => [404, 'Not Found\n']),
    );
    const big = 'x'.repeat(1024 * 1024 + 1);
    assert.deepEqual(await send(hook, { method: 'POST', headers: { 'x-hub-signature-256': `sha256=${sign(SECRET, big)}` }, body: big }), {
      status: 413,
      body: 'Payload Too Large\n',
    });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await ran(project, 'site', sha), false, 'a refused request started a run');

    for (const forge of ['github', 'gitea', 'gitlab'] as const) {
      const next = forge === 'github' ? sha : await remote.commit();
      const sent = Date.now();
      assert.deepEqual(await send(hook, push(forge, SECRET)), { status: 202, body: 'Accepted\n' });
      await daemon.until(() => ran(project, 'site', next), `the run after the ${forge} push`, 5000);
      assert.ok(Date.now() - sent < 3000, `${forge}: the run came ${Date.now() - sent} ms after the push`);
    }

    // The counters match what ran: 4 runs of site, 1 of plain; 4 checks of site (start + 3 pushes), 1 of plain.
    const runs = (await project.record()).filter((l) => l.startsWith('site ')).length;
    assert.equal(runs, 4);
    await daemon.until(async () => sample(await scrape(base), 'gitwatch_runs_total', { repo: 'site', status: 'succeeded' }) === 4, 'the fourth run counted');
    const metrics = await scrape(base);
    assert.equal(sample(metrics, 'gitwatch_checks_total', { repo: 'site', result: 'ok' }), 4);
    assert.equal(sample(metrics, 'gitwatch_checks_total', { repo: 'site', result: 'failed' }), 0);
    assert.equal(sample(metrics, 'gitwatch_checks_total', { repo: 'plain', result: 'ok' }), 1);
    assert.equal(sample(metrics, 'gitwatch_runs_total', { repo: 'plain', status: 'succeeded' }), 1);
    // The parser keeps a histogram's type but folds labelled series together, so its count is read from the line.
    assert.equal(metrics.families.get('gitwatch_run_duration_seconds')?.type, 'HISTOGRAM');
    assert.match(metrics.text, /^gitwatch_run_duration_seconds_count\{repo="site"\} 4$/m, 'the histogram counts every run');
    assert.match(metrics.text, /^gitwatch_run_duration_seconds_bucket\{le="\+Inf",repo="site"\} 4$/m);
    assert.equal(sample(metrics, 'gitwatch_repo_up', { repo: 'site' }), 1);
    const last = sample(metrics, 'gitwatch_last_success_timestamp_seconds', { repo: 'site' });
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last success at ${last}`);
    assert.ok(
      metrics.families.has('process_cpu_user_seconds_total') && metrics.families.has('nodejs_heap_size_used_bytes'),
      'the client library process metrics',
    );

    assert.doesNotMatch(daemon.stdout() + daemon.stderr(), new RegExp(SECRET));
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    await assert.rejects(send(`${base}/healthz`), /ECONNREFUSED/, 'the server stops with the daemon');
  });

  test('/metrics counts the commits recorded as skipped, by a paths filter and by a skip marker', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1s', paths: ['web/**'], pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    const counted = (status: string) => async (): Promise<number> => sample(await scrape(base), 'gitwatch_runs_total', { repo: 'site', status });
    await daemon.until(async () => (await counted('succeeded')()) === 1, 'the first run counted');

    const docs = await remote.commit({ 'docs/guide.md': 'no web file\n' });
    await daemon.until(async () => (await project.state()).repos['site']?.commit === docs, 'the docs commit recorded');
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'skipped');
    await daemon.until(async () => (await counted('skipped')()) === 1, 'the skip by paths counted');
    const marked = await remote.commit({ 'web/index.html': 'a web file\n' }, 'tweak [skip ci]');
    await daemon.until(async () => (await project.state()).repos['site']?.commit === marked, 'the marked commit recorded');
    await daemon.until(async () => (await counted('skipped')()) === 2, 'the skip by marker counted');
    assert.equal(await counted('succeeded')(), 1, 'a skipped commit counted as a run');
    assert.equal((await project.record()).length, 1);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('/metrics: a name that ends in _total is a counter; the process metrics stay, the Node.js active ones by type', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, interval: '1h', pipeline: ['true'] } } });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    await daemon.until(async () => sample(await scrape(base), 'gitwatch_checks_total', { repo: 'site', result: 'ok' }) === 1, 'the first check');
    const metrics = await scrape(base);
    const misnamed = [...metrics.families].filter(([name, f]) => name.endsWith('_total') && f.type !== 'COUNTER').map(([name, f]) => `${name} (${f.type})`);
    assert.deepEqual(misnamed, [], 'only counters end in _total');
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_open_fds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(metrics.families.has(name), `${name} is kept`);
    }
    // The totals are the sums over the types: sum(nodejs_active_handles).
    const handles = metrics.families.get('nodejs_active_handles');
    assert.equal(handles?.type, 'GAUGE');
    assert.ok(
      [...(handles?.samples.keys() ?? [])].some((labels) => 'type' in (JSON.parse(labels) as object)),
      'active handles by type',
    );
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('/healthz answers 503 until every repo has been checked once, then 200; a failed check counts as failed', async (t) => {
    // A git:// server that accepts and never answers: the first check lasts until git_timeout.
    const held: Socket[] = [];
    const stall = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const s of held) s.destroy();
      stall.close();
    });
    const port = (stall.address() as { port: number }).port;
    const remote = await TestRepo.create(path.join(await tempDir(t), 'fast'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        fast: { url: remote.url, interval: '1h', pipeline: ['true'] },
        slow: { url: `git://127.0.0.1:${port}/slow.git`, interval: '1h', git_timeout: '3s', pipeline: ['true'] },
      },
    });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    assert.deepEqual(await send(`${base}/healthz`), { status: 503, body: 'Service Unavailable\n' });
    await daemon.until(() => /fast ✔ succeeded/.test(daemon.stdout()), 'the fast repo ran');
    assert.equal((await send(`${base}/healthz`)).status, 503, 'one repo is still in its first check');
    await daemon.until(async () => (await send(`${base}/healthz`)).status === 200, 'healthy', 10_000);
    assert.match(daemon.stdout(), /slow ✖ check failed: .*timed out/);
    const metrics = await scrape(base);
    assert.equal(sample(metrics, 'gitwatch_checks_total', { repo: 'slow', result: 'failed' }), 1);
    assert.equal(sample(metrics, 'gitwatch_repo_up', { repo: 'slow' }), 0);
    assert.equal(sample(metrics, 'gitwatch_repo_up', { repo: 'fast' }), 1);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('a bad --listen is a usage error, and so is a port in use', async (t) => {
    const project = await makeProject(t, { version: 1, repos: { a: { url: '/nonexistent', pipeline: ['true'] } } });
    for (const bad of ['9090', 'localhost:', ':80', '127.0.0.1:65536', 'a b:1', '[nope]:80']) {
      const r = await project.cli('run', '--listen', bad);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--listen/);
    }
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const r = await project.cli('run', '--listen', `127.0.0.1:${(taken.address() as { port: number }).port}`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  test('1,000 concurrent bad requests and slow clients leave the daemon healthy, working, and its memory flat', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, interval: '1h', webhook_secret: SECRET, pipeline: [RECORD_STEP] } },
    });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    const { hostname, port } = new URL(base);
    await daemon.until(() => ran(project, 'site', remote.head()), 'the first run');
    const { rssKiB } = await import('./helpers/listen.js');

    const kinds = [
      `POST /hooks/site HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=${'ab'.repeat(32)}\r\nContent-Length: 2\r\n\r\n{}`,
      '\x00\x01\x02 GARBAGE \xff\r\n\r\n',
      'POST /hooks/site HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n',
      'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
      // Slowloris: headers that never end.
      'POST /hooks/site HTTP/1.1\r\nHost: x\r\nX-Slow: ',
    ];
    /** One raw connection; resolves when the server has closed it, with how long that took. */
    const attack = (text: string): Promise<number> =>
      new Promise((resolve) => {
        const started = Date.now();
        const socket = connect({ host: hostname, port: Number(port) });
        const giveUp = setTimeout(() => socket.destroy(), 20_000);
        socket.on('connect', () => socket.write(text, 'latin1'));
        socket.on('data', () => undefined);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(giveUp);
          resolve(Date.now() - started);
        });
      });
    const wave = async (n: number): Promise<number[]> => Promise.all(Array.from({ length: n }, (_, i) => attack(kinds[i % kinds.length] ?? '')));

    await wave(100);
    const before = await rssKiB(daemon.pid);
    const started = Date.now();
    const closedAfter = await wave(1000);
    // Every connection, the slow ones included, was closed by the server: headers must be whole within 5 s.
    assert.ok(Math.max(...closedAfter) < 12_000, `the slowest connection lasted ${Math.max(...closedAfter)} ms`);
    assert.ok(Date.now() - started < 15_000);
    const after = await rssKiB(daemon.pid);
    t.diagnostic(`daemon RSS: ${before} KiB before, ${after} KiB after 1,000 bad requests`);
    assert.ok(after - before < 25 * 1024, `RSS grew from ${before} to ${after} KiB`);

    assert.equal((await send(`${base}/healthz`)).status, 200);
    const sha = await remote.commit();
    assert.equal((await send(`${base}/hooks/site`, push('github', SECRET))).status, 202);
    await daemon.until(() => ran(project, 'site', sha), 'a run after the flood', 5000);
    assert.equal(daemon.child.exitCode, null);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
