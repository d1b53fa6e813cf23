// Hostile or broken remotes, through the built CLI: what the server sends is not what a git server sends.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { describe, test, type TestContext } from 'node:test';
import { pktLineProblem } from '../src/git/pkt-line.js';
import { BIN } from './helpers/cli.js';
import { startDaemon } from './helpers/daemon.js';
import { listeningUrl, send } from './helpers/listen.js';
import { makeProject } from './helpers/project.js';

const SHA = 'a'.repeat(40);

/** One pkt-line: four hex digits of length (their own included), then the data. */
function pkt(line: string): string {
  return `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
}

/** A smart-HTTP server on 127.0.0.1 whose `info/refs` answers are `bodies[repo]`; it counts what it is asked. */
async function advertiser(t: TestContext, bodies: Record<string, string | Buffer>): Promise<{ url: (repo: string) => string; asked: () => number }> {
  let asked = 0;
  const server: Server = createServer((req, res) => {
    asked++;
    const repo = /^\/([^/]+)\/info\/refs/.exec(req.url ?? '')?.[1] ?? '';
    const body = bodies[repo];
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: (repo) => `http://127.0.0.1:${port}/${repo}`, asked: () => asked };
}

describe('a corrupt smart-HTTP advertisement', () => {
  test('is a transient check failure that says "protocol error", never a missing branch, and marks no target gone', async (t) => {
    const service = `${pkt('# service=git-upload-pack\n')}0000`;
    const server = await advertiser(t, {
      // Garbage where the first ref should be: read leniently, an empty repository.
      'empty.git': `${service}zzzz not a pkt-line\n`,
      // One good ref, then garbage where main should be: read leniently, a remote without main.
      'partial.git': `${service}${pkt(`${SHA} HEAD\0symref=HEAD:refs/heads/main\n`)}zzzz${pkt(`${SHA} refs/heads/main\n`)}0000`,
      // Whole frames, but main's is no ref line: read leniently, main's id is no commit id and main is left out.
      'notsha.git': `${service}${pkt(`${SHA} HEAD\0symref=HEAD:refs/heads/main\n`)}${pkt(`${'z'.repeat(40)} refs/heads/main\n`)}0000`,
    });
    const ran = { commit: SHA, status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z' };
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: { url: server.url('partial.git'), branch: 'main', pipeline: ['true'] },
        fresh: { url: server.url('empty.git'), pipeline: ['true'] },
        odd: { url: server.url('notsha.git'), branch: 'main', pipeline: ['true'] },
        feats: { url: server.url('partial.git'), branch: '**', pipeline: ['true'] },
      },
    });
    const target = (branch: string): unknown => ({ branch, commit: SHA, url: server.url('partial.git'), lastRun: ran });
    await writeFile(project.statePath, JSON.stringify({ version: 1, repos: { 'feats@main': target('main'), 'feats@feat/x': target('feat/x') } }));

    const once = await project.cli('once');
    assert.equal(once.code, 1, once.stdout + once.stderr);
    const out = once.stdout + once.stderr;
    for (const repo of ['site', 'fresh', 'feats'])
      assert.match(out, new RegExp(`${repo} ✖ check failed: checking \\S+: server error: protocol error: bad line length character: zzzz`));
    assert.match(out, /odd ✖ check failed: checking \S+: server error: protocol error: expected sha\/ref, got 'z{40} refs\/heads\/main'/);
    assert.doesNotMatch(out, /not found on the remote|no default branch|gone/);
    const state = (await project.state()) as { repos: Record<string, { gone?: string }> };
    assert.equal(state.repos['feats@main']?.gone, undefined);
    assert.equal(state.repos['feats@feat/x']?.gone, undefined);

    const plan = await project.cli('plan', '--json');
    assert.equal(plan.code, 1, plan.stderr);
    const planned = (JSON.parse(plan.stdout) as { repos: { name: string; decision: string; reason: string }[] }).repos;
    assert.deepEqual(
      planned.map((p) => [p.name, p.decision, /protocol error: bad line length character/.test(p.reason)]),
      [
        ['site', 'check failed', true],
        ['fresh', 'check failed', true],
        ['odd', 'check failed', false],
        ['feats', 'check failed', true],
      ],
    );
  });
});

describe('a fetch that fails after a good check', () => {
  test('is a failed check in the metrics, and the repo is down', async (t) => {
    const good = `${pkt('# service=git-upload-pack\n')}0000${pkt(`${SHA} HEAD\0symref=HEAD:refs/heads/main\n`)}${pkt(`${SHA} refs/heads/main\n`)}0000`;
    // The advertisement is good; the fetch's request (POST .../git-upload-pack) is answered 404.
    const server = await advertiser(t, { 'site.git': good });
    const project = await makeProject(t, { version: 1, repos: { site: { url: server.url('site.git'), interval: '1h', pipeline: ['true'] } } });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    await daemon.until(() => /site ✖ check failed: fetching /.test(daemon.stdout()), 'the failed fetch');
    const metrics = (await send(`${base}/metrics`)).body;
    const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.equal(value('gitwatch_checks_total{repo="site",result="failed"}'), 1, metrics);
    assert.equal(value('gitwatch_repo_up{repo="site"}'), 0);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});

describe('a huge advertisement', () => {
  test('costs a bounded amount of memory: past 8 MiB, git reads it instead', async (t) => {
    // 50 MB of valid advertisement: main, then some 760,000 tags.
    const lines = [pkt('# service=git-upload-pack\n'), '0000', pkt(`${SHA} HEAD\0multi_ack symref=HEAD:refs/heads/main\n`), pkt(`${SHA} refs/heads/main\n`)];
    for (let i = 0, size = 0; size < 50 * 1024 * 1024; i++) {
      const line = pkt(`${SHA} refs/tags/t${String(i).padStart(12, '0')}\n`);
      lines.push(line);
      size += line.length;
    }
    const server = await advertiser(t, { 'big.git': Buffer.from(`${lines.join('')}0000`) });
    const project = await makeProject(t, { version: 1, repos: { site: { url: server.url('big.git'), branch: 'main', pipeline: ['true'] } } });

    // once: one check (the fetch then fails: this server serves no objects). The peak of its resident memory, sampled until it exits (VmHWM only grows).
    const child = spawn(process.execPath, [BIN, 'once'], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    let peakKiB = 0;
    const sample = (): void => {
      const kib = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid ?? 0}/status`, 'utf8'))?.[1] ?? 0);
      peakKiB = Math.max(peakKiB, kib);
    };
    const timer = setInterval(() => {
      try {
        sample();
      } catch {
        // It has just exited.
      }
    }, 10);
    await new Promise((resolve) => child.once('exit', resolve));
    clearInterval(timer);
    t.diagnostic(`the peak RSS of once: ${peakKiB} KiB`);
    assert.ok(peakKiB > 0, 'sampled');
    // Kept whole and parsed, this advertisement took `once` to about 380 MB. Read and dropped past 8 MiB, the
    // peak is what the garbage of 50 MB of socket reads reaches before V8 collects it: about 93 MB on Node 20,
    // and 122 to 157 MB on Node 24, whose collector lets more of it pile up first.
    assert.ok(peakKiB < 200 * 1024, `a 50 MB advertisement took gitwatch to ${Math.round(peakKiB / 1024)} MB`);
    assert.match(output, /checks of http:\/\/127\.0\.0\.1:\d+ run git: its answer is larger than 8 MiB/);
  });
});

describe('pkt-line framing', () => {
  const cases: [string, string, string | undefined][] = [
    ['a v0 advertisement', `${pkt('# service=git-upload-pack\n')}0000${pkt(`${SHA} HEAD\0caps\n`)}0000`, undefined],
    ['a v2 answer that ends with a response end', `${pkt('version 2\n')}0001${pkt('ls-refs\n')}0000${'0002'}`, undefined],
    ['no pkt-line at all', 'zzzz', 'protocol error: bad line length character: zzzz'],
    ['a control character in the length is shown, not sent', '\u001b[2J', 'protocol error: bad line length character: \\x1b[2J'],
    ['a length of 3', '0003', 'protocol error: bad line length 3'],
    ['a length past the largest pkt-line', 'fff5', 'protocol error: bad line length 65525'],
    ['cut inside a line', `${pkt('# service=git-upload-pack\n').slice(0, 10)}`, 'protocol error: the answer ends inside a pkt-line'],
    ['cut before the flush', pkt('# service=git-upload-pack\n'), 'protocol error: the answer does not end with a flush-pkt'],
    ['empty, as git http-backend answers ls-refs of an empty repository', '', undefined],
  ];
  for (const [what, body, problem] of cases) test(what, () => assert.equal(pktLineProblem(Buffer.from(body, 'latin1')), problem));
});
