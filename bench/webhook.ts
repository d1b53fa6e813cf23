// Webhook latency: from sending a signed GitHub-style push to `gitwatch run --listen` until the daemon
// reports the first step of the pushed commit's pipeline started. The poll interval is an hour, so only
// the webhook can start it. Part of `npm run bench`; `node dist/bench/webhook.js` runs it alone.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { addCommit, GIT_ENV, makeRepos } from './fixtures.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/gitwatch.js');
const SECRET = 'bench-secret';

function post(url: string, body: string): Promise<number> {
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'x-hub-signature-256': signature, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Milliseconds from each push to its first step-started event: `rounds` of them, in order. */
export async function webhookLatency(rounds: number): Promise<number[]> {
  const fixture = await makeRepos(1, 'gitwatch-bench-hook-');
  const bare = fixture.repos[0] ?? '';
  await writeFile(
    path.join(fixture.root, 'gitwatch.yaml'),
    stringify({ version: 1, repos: { site: { url: `file://${bare}`, interval: '1h', webhook_secret: SECRET, pipeline: ['true'] } } }),
  );
  const child = spawn(process.execPath, [BIN, '--log-format', 'json', 'run', '--listen', '127.0.0.1:0'], {
    cwd: fixture.root,
    env: GIT_ENV,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waiters: { match: (e: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  let url = '';
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const event = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      if (event['event'] === 'listening') url = String(event['url']);
      for (const w of waiters.splice(0)) (w.match(event) ? w.resolve : () => waiters.push(w))();
    }
  });
  const next = (match: (e: Record<string, unknown>) => boolean): Promise<void> => new Promise((resolve) => waiters.push({ match, resolve }));
  const times: number[] = [];
  try {
    await next((e) => e['event'] === 'run-finished');
    for (let i = 0; i < rounds; i++) {
      const sha = addCommit(bare, `push ${i}`);
      let current = '';
      const stepStarted = next((e) => {
        if (e['event'] === 'run-started') current = String(e['commit']);
        return e['event'] === 'step-started' && current === sha;
      });
      const finished = next((e) => e['event'] === 'run-finished' && e['commit'] === sha);
      const sent = performance.now();
      const status = await post(`${url}/hooks/site`, `{"after":"${sha}"}`);
      if (status !== 202) throw new Error(`webhook answered ${status}`);
      await stepStarted;
      times.push(performance.now() - sent);
      await finished;
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const { rm } = await import('node:fs/promises');
    await rm(fixture.root, { recursive: true, force: true });
  }
  return times;
}

/** The line `npm run bench` prints. */
export async function webhookCase(rounds = Number(process.env['BENCH_WEBHOOK_ROUNDS'] ?? 20)): Promise<string> {
  const sorted = (await webhookLatency(rounds)).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  const ms = (n: number | undefined): string => `${(n ?? 0).toFixed(0)} ms`;
  return `webhook → first step started, ${sorted.length} pushes: median ${ms(median)}, min ${ms(sorted[0])}, max ${ms(sorted.at(-1))} (target < 100 ms)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await webhookCase());
