// `npm run bench`: gitwatch against the shell loop most users run today, measured in the same run,
// alternating, on the same repos. Prints medians and ratios (gitwatch / baseline). Not part of npm test.
//
// Environment: BENCH_SIZES (default "1,50,200,1000"), BENCH_ROUNDS (default 5), BENCH_SOAK_MINUTES
// (default 2; the daemon memory case), BENCH_SOAK_REPOS (default 1000), BENCH_WEBHOOK_ROUNDS (default 20),
// BENCH_STATUS_REPOS (default 1000; `status` against a daemon), BENCH_DEPTH_COMMITS (default 2000) and
// BENCH_DEPTH_MB (default 50; the first run of a long history, default depth against depth: 0),
// BENCH_ONLY=depth (that case alone).

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { addCommit, GIT_ENV, makeRepos, type Fixture } from './fixtures.js';
import { startDelayProxy } from './proxy.js';
import { depthCase } from './depth.js';
import { statusCase } from './status.js';
import { webhookCase } from './webhook.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/gitwatch.js');
const SHELL_LOOP = path.join(ROOT, 'bench/shell-loop.sh');
const SIZES = (process.env['BENCH_SIZES'] ?? '1,50,200,1000').split(',').map(Number);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SOAK_MINUTES = Number(process.env['BENCH_SOAK_MINUTES'] ?? 2);
const SOAK_REPOS = Number(process.env['BENCH_SOAK_REPOS'] ?? 1000);

interface Row {
  readonly name: string;
  readonly gitwatchMs: number;
  readonly baselineMs: number;
  readonly baseline: string;
  readonly target: string;
}

const rows: Row[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Wall time of one command. Asynchronous, so the in-process proxy keeps serving while it runs. */
async function timed(command: string, args: string[], cwd: string): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd, env: GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr.slice(0, 500)}`);
  return ms;
}

interface Side {
  run(): Promise<number>;
}

async function setUp(fixture: Fixture, urls: readonly string[], label: string): Promise<{ gitwatch: Side; shell: Side; dir: string }> {
  const dir = path.join(fixture.root, label);
  await mkdir(dir, { recursive: true });
  const repos = Object.fromEntries(urls.map((url, i) => [`r${i}`, { url, pipeline: ['true'] }]));
  await writeFile(path.join(dir, 'gitwatch.yaml'), stringify({ version: 1, repos }));
  await writeFile(path.join(dir, 'repos.txt'), urls.map((url, i) => `r${i} ${url}\n`).join(''));
  return {
    dir,
    gitwatch: { run: () => timed(process.execPath, [BIN, '-q', 'once'], dir) },
    shell: { run: () => timed('bash', [SHELL_LOOP, 'repos.txt', 'shell-state', 'shell-checkouts'], dir) },
  };
}

/** Alternates the two sides, `before` each run, and keeps the medians. */
async function compare(
  name: string,
  target: string,
  sides: { gitwatch: Side; shell: Side },
  rounds: number,
  before: () => void = () => undefined,
): Promise<void> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    before();
    a.push(await sides.gitwatch.run());
    before();
    b.push(await sides.shell.run());
  }
  rows.push({ name, gitwatchMs: median(a), baselineMs: median(b), baseline: 'shell loop', target });
  console.error(`  ${name}: gitwatch ${median(a).toFixed(0)} ms, shell ${median(b).toFixed(0)} ms`);
}

async function repoCases(): Promise<void> {
  for (const n of SIZES) {
    console.error(`${n} repos`);
    const fixture = await makeRepos(n);
    try {
      const sides = await setUp(
        fixture,
        fixture.repos.map((r) => `file://${r}`),
        'local',
      );
      // Both sides start from the same place: every repo processed once.
      await sides.gitwatch.run();
      await sides.shell.run();
      const rounds = n >= 1000 ? Math.min(ROUNDS, 3) : ROUNDS;
      const unchangedTarget = n === 200 ? '≤ 0.5×' : n === 1000 ? 'cycle < 3 s' : '';
      await compare(`nothing changed, ${n} repos`, unchangedTarget, sides, rounds);
      let commit = 0;
      const changeAll = (): void => {
        commit++;
        for (const repo of fixture.repos) addCommit(repo, `change ${commit}`);
      };
      await compare(`every repo changed, ${n} repos`, n === 50 ? '≤ 1.0×' : '', sides, n >= 1000 ? 1 : Math.min(ROUNDS, 3), changeAll);
    } finally {
      await rm(fixture.root, { recursive: true, force: true });
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

async function slowRemoteCase(): Promise<void> {
  console.error('100 repos behind a 50 ms proxy');
  const fixture = await makeRepos(100);
  const port = await freePort();
  const daemon = spawn(
    'git',
    ['daemon', '--reuseaddr', '--export-all', `--base-path=${path.join(fixture.root, 'remotes')}`, '--listen=127.0.0.1', `--port=${port}`],
    { env: GIT_ENV, stdio: 'ignore' },
  );
  const proxy = await startDelayProxy(port, 50);
  try {
    for (let i = 0; i < 50; i++) {
      try {
        execFileSync('git', ['ls-remote', `git://127.0.0.1:${port}/repo-0000.git`], { env: GIT_ENV, stdio: 'ignore' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const urls = fixture.repos.map((r) => `git://127.0.0.1:${proxy.port}/${path.basename(r)}`);
    const sides = await setUp(fixture, urls, 'slow');
    await sides.gitwatch.run();
    await sides.shell.run();
    await compare('nothing changed, 100 repos, remote 50 ms away', 'cycle < 1 s', sides, ROUNDS);
  } finally {
    proxy.server.close();
    daemon.kill('SIGTERM');
    await rm(fixture.root, { recursive: true, force: true });
  }
}

async function startupCases(): Promise<void> {
  console.error('start-up');
  const runs = ROUNDS * 4;
  const example = path.join(ROOT, 'examples/gitwatch.yaml');
  const base: number[] = [];
  const version: number[] = [];
  const validate: number[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await timed(process.execPath, ['-e', '0'], ROOT));
    version.push(await timed(process.execPath, [BIN, '--version'], ROOT));
    validate.push(await timed(process.execPath, [BIN, 'validate', '-c', example], ROOT));
  }
  rows.push({ name: 'gitwatch --version', gitwatchMs: median(version), baselineMs: median(base), baseline: 'node -e 0', target: '≤ 1.3×' });
  rows.push({ name: 'gitwatch validate (example)', gitwatchMs: median(validate), baselineMs: median(base), baseline: 'node -e 0', target: '≤ 1.8×' });
}

async function soakCase(): Promise<string> {
  if (SOAK_MINUTES <= 0) return '';
  console.error(`daemon with ${SOAK_REPOS} repos for ${SOAK_MINUTES} min`);
  const fixture = await makeRepos(SOAK_REPOS);
  const dir = path.join(fixture.root, 'soak');
  await mkdir(dir);
  const repos = Object.fromEntries(fixture.repos.map((url, i) => [`r${i}`, { url: `file://${url}`, interval: '30s', pipeline: ['true'] }]));
  await writeFile(path.join(dir, 'gitwatch.yaml'), stringify({ version: 1, repos }));
  const child = spawn(process.execPath, [BIN, '-q', 'run'], { cwd: dir, env: GIT_ENV, stdio: 'ignore' });
  const samples: string[] = [];
  try {
    for (let m = 1; m <= SOAK_MINUTES; m++) {
      await new Promise((r) => setTimeout(r, 60_000));
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      samples.push(`${(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024).toFixed(0)}`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(fixture.root, { recursive: true, force: true });
  }
  return `daemon, ${SOAK_REPOS} repos, interval 30s: resident MB at each minute: ${samples.join(', ')} (target < 150 MB, flat)`;
}

function printTable(soak: string): void {
  const lines = [
    '| case | gitwatch (median) | baseline (median) | ratio | target |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.gitwatchMs.toFixed(0)} ms | ${r.baselineMs.toFixed(0)} ms (${r.baseline}) | ${(r.gitwatchMs / r.baselineMs).toFixed(2)} | ${r.target} |`,
    ),
  ];
  console.log(lines.join('\n'));
  if (soak) console.log(`\n${soak}`);
}

async function daemonStatusCase(): Promise<void> {
  const repos = Number(process.env['BENCH_STATUS_REPOS'] ?? 1000);
  console.error(`status against a daemon with ${repos} repos`);
  const { statusMs, nodeMs } = await statusCase(BIN, repos, ROUNDS * 4);
  rows.push({
    name: `gitwatch status, daemon with ${repos} repos`,
    gitwatchMs: median(statusMs),
    baselineMs: median(nodeMs),
    baseline: 'node -e 0',
    target: '≤ 1.5×',
  });
}

async function depthRows(): Promise<string> {
  const commits = Number(process.env['BENCH_DEPTH_COMMITS'] ?? 2000);
  const megabytes = Number(process.env['BENCH_DEPTH_MB'] ?? 50);
  console.error(`first run of ${commits} commits, ${megabytes} MB of history: default depth against depth: 0`);
  const r = await depthCase(BIN, commits, Math.round((megabytes * 1024 * 1024) / commits), ROUNDS);
  const name = `first run, ${commits} commits / ${megabytes} MB, default depth`;
  rows.push({ name, gitwatchMs: r.shallowMs, baselineMs: r.fullMs, baseline: 'depth: 0', target: '' });
  const size = (bytes: number): string => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  const ratio = (r.shallowBytes / r.fullBytes).toFixed(4);
  return `${name}: ${size(r.shallowBytes)} on disk against ${size(r.fullBytes)} with depth: 0 (${ratio}×; the remote holds ${size(r.historyBytes)})`;
}

if (process.env['BENCH_ONLY'] === 'depth') {
  const depth = await depthRows();
  printTable('');
  console.log(`\n${depth}`);
} else {
  await startupCases();
  await daemonStatusCase();
  await repoCases();
  await slowRemoteCase();
  const depth = await depthRows();
  console.error('webhook latency');
  const webhook = await webhookCase();
  printTable(await soakCase());
  console.log(`\n${webhook}\n${depth}`);
}
