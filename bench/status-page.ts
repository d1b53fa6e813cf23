// The status page at 1,000 repos (`npm run bench`, or `node dist/bench/status-page.js` alone): its first
// paint in headless Chromium, how long one event takes from the daemon to the page, and what the page
// costs the daemon's CPU with nobody looking and with one viewer. Needs /usr/bin/chromium.
//
// Environment: BENCH_PAGE_REPOS (default 1000), BENCH_PAGE_ROUNDS (default 20 events, 5 page loads),
// BENCH_PAGE_CPU_SECONDS (default 30 per window), BENCH_PAGE_SHOT (a PNG path: the page at that size).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { stringify } from 'yaml';
import { addCommit, GIT_ENV, makeRepos } from './fixtures.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/gitwatch.js');
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'bench-page-token';
const TICKS = 100;

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function post(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface PageNumbers {
  readonly repos: number;
  readonly firstPaintMs: number[];
  readonly drawnMs: number[];
  readonly eventMs: number[];
  readonly idleCpu: number;
  readonly viewerCpu: number;
}

export async function statusPageNumbers(n = Number(process.env['BENCH_PAGE_REPOS'] ?? 1000)): Promise<PageNumbers> {
  const rounds = Number(process.env['BENCH_PAGE_ROUNDS'] ?? 20);
  const cpuWindow = Number(process.env['BENCH_PAGE_CPU_SECONDS'] ?? 30);
  const fixture = await makeRepos(n, 'gitwatch-bench-page-');
  const names = fixture.repos.map((_, i) => `repo-${String(i).padStart(4, '0')}`);
  const repos: Record<string, unknown> = Object.fromEntries(
    fixture.repos.map((bare, i): [string, unknown] => [names[i] ?? '', { url: `file://${bare}`, interval: '1m', pipeline: ['true'] }]),
  );
  await writeFile(path.join(fixture.root, 'gitwatch.yaml'), stringify({ version: 1, listen_token: TOKEN, concurrency: { pipelines: 8 }, repos }));
  const child = spawn(process.execPath, [BIN, '--log-format', 'json', 'run', '--listen', '127.0.0.1:0'], {
    cwd: fixture.root,
    env: GIT_ENV,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      events.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
    }
  });
  const until = async (probe: () => boolean, what: string, ms = 600_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!probe()) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`status page bench: no ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const profile = await mkdtemp(path.join(tmpdir(), 'gitwatch-bench-chromium-'));
  let browser: Browser | undefined;
  try {
    await until(() => events.filter((e) => e['event'] === 'run-finished').length >= n, `first runs of ${n} repos`);
    const url = String(events.find((e) => e['event'] === 'listening')?.['url']);
    const pid = child.pid ?? 0;
    // Let the first runs' after-effects settle before the daemon's CPU is counted.
    await new Promise((r) => setTimeout(r, 5_000));
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, cpuWindow * 1000));
    const idleCpu = (cpuSeconds(pid) - before) / cpuWindow;

    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      userDataDir: profile,
    });
    const firstPaintMs: number[] = [];
    const drawnMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      await page.setViewport({ width: 1600, height: 1000 });
      await page.goto(`${url}/`, { waitUntil: 'load' });
      await page.waitForFunction(
        () => performance.getEntriesByName('first-contentful-paint').length > 0 && performance.getEntriesByName('gitwatch-drawn').length > 0,
      );
      const [fcp, drawn] = await page.evaluate(() => [
        performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        performance.getEntriesByName('gitwatch-drawn')[0]?.startTime ?? NaN,
      ]);
      firstPaintMs.push(fcp ?? NaN);
      drawnMs.push(drawn ?? NaN);
      const shot = process.env['BENCH_PAGE_SHOT'];
      if (i === 0 && shot) await page.screenshot({ path: shot });
      if (i < 4) await page.close();
    }
    const page = (await browser.pages()).at(-1);
    if (page === undefined) throw new Error('status page bench: no page');
    await page.waitForFunction(() => document.getElementById('live')?.dataset['on'] === '1');

    // One viewer, the page open and following /events.
    await new Promise((r) => setTimeout(r, 5_000));
    const withViewer = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, cpuWindow * 1000));
    const viewerCpu = (cpuSeconds(pid) - withViewer) / cpuWindow;

    const eventMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const name = names[(i * 37) % n] ?? '';
      const sha = addCommit(fixture.repos[(i * 37) % n] ?? '', `page ${i}`);
      const seen = page.waitForFunction(
        (repo: string, short: string) => {
          const card = [...document.querySelectorAll('#repos > li')].find((li) => li.getAttribute('data-name') === repo);
          return card?.textContent?.includes(`Commit ${short}`) ? Date.now() : false;
        },
        { polling: 'mutation', timeout: 60_000 },
        name,
        sha.slice(0, 7),
      );
      if ((await post(`${url}/api/repos/${name}/trigger`)) !== 202) throw new Error('status page bench: trigger refused');
      const shownAt = Number(await (await seen).jsonValue());
      await until(() => events.some((e) => e['event'] === 'run-started' && e['commit'] === sha), 'run-started event', 60_000);
      const started = events.find((e) => e['event'] === 'run-started' && e['commit'] === sha);
      eventMs.push(shownAt - Date.parse(String(started?.['time'])));
      await until(() => events.some((e) => e['event'] === 'run-finished' && e['commit'] === sha), 'run-finished event', 60_000);
    }
    return { repos: n, firstPaintMs, drawnMs, eventMs, idleCpu, viewerCpu };
  } finally {
    await browser?.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(profile, { recursive: true, force: true });
    await rm(fixture.root, { recursive: true, force: true });
  }
}

/** The lines `npm run bench` prints; empty with a reason when chromium is missing. */
export async function statusPageCase(): Promise<string> {
  if (!existsSync(CHROMIUM)) return `status page: skipped (${CHROMIUM} is not installed)`;
  const r = await statusPageNumbers();
  const ms = (v: number): string => `${v.toFixed(0)} ms`;
  const pct = (v: number): string => `${(v * 100).toFixed(2)}% of a core`;
  return [
    `status page, ${r.repos} repos: first contentful paint median ${ms(median(r.firstPaintMs))} (max ${ms(Math.max(...r.firstPaintMs))}), repos drawn median ${ms(median(r.drawnMs))} (target < 1 s)`,
    `status page: event → page median ${ms(median(r.eventMs))} over ${r.eventMs.length} runs (max ${ms(Math.max(...r.eventMs))}; target < 200 ms)`,
    `status page: daemon CPU with nobody looking ${pct(r.idleCpu)}, with one viewer ${pct(r.viewerCpu)} (the page's share: ${pct(r.viewerCpu - r.idleCpu)}; target < 1%)`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await statusPageCase());
