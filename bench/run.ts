// `npm run bench`: gitwatch against the shell loop most users run today, measured in the same run,
// alternating, on the same repos. Prints medians and ratios (gitwatch / baseline). Not part of npm test.
//
// Environment: BENCH_SIZES (default "1,50,200,1000"), BENCH_ROUNDS (default 5), BENCH_SOAK_MINUTES
// (default 3; the daemon's memory and CPU, the first minute not counted), BENCH_SOAK_REPOS (default 1000),
// BENCH_WEBHOOK_ROUNDS (default 20), BENCH_STATUS_REPOS (default 1000; `status` against a daemon),
// BENCH_HTTP_REPOS (default 500; 0 skips), BENCH_SSH_REPOS (default 100; 0 skips, as does a missing sshd),
// BENCH_NODE24 (a Node 24 binary: start-up and the unchanged local cases also run gitwatch on it),
// BENCH_DEPTH_COMMITS (default 2000) and BENCH_DEPTH_MB (default 50; the first run of a long history,
// default depth against depth: 0), BENCH_ONLY=depth (that case alone),
// BENCH_SKIP (cases left out, comma-separated: startup, status, changed, http, ssh, slow, webhook, depth, page);
// the status page case reads BENCH_PAGE_* (bench/status-page.ts).
//
// Repo cases report wall time and the client's CPU time (user + system of the command and every process it
// waited for: git, ssh), measured by bash's `times`; servers the bench starts run in this process or apart
// and are not counted.

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { TestContext } from 'node:test';
import { startHttpGit } from '../test/helpers/http-git.js';
import { sshdMissing, startSshd } from '../test/helpers/sshd.js';
import { addCommit, GIT_ENV, makeRepos, type Fixture } from './fixtures.js';
import { startDelayProxy } from './proxy.js';
import { depthCase } from './depth.js';
import { statusCase } from './status.js';
import { statusPageCase } from './status-page.js';
import { webhookCase } from './webhook.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/gitwatch.js');
const SHELL_LOOP = path.join(ROOT, 'bench/shell-loop.sh');
const SIZES = (process.env['BENCH_SIZES'] ?? '1,50,200,1000').split(',').map(Number);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SOAK_MINUTES = Number(process.env['BENCH_SOAK_MINUTES'] ?? 3);
const SOAK_REPOS = Number(process.env['BENCH_SOAK_REPOS'] ?? 1000);
const HTTP_REPOS = Number(process.env['BENCH_HTTP_REPOS'] ?? 500);
const SSH_REPOS = Number(process.env['BENCH_SSH_REPOS'] ?? 100);
const NODE24 = process.env['BENCH_NODE24'];
const SKIP = new Set((process.env['BENCH_SKIP'] ?? '').split(',').map((c) => c.trim()));

interface Row {
  readonly name: string;
  readonly gitwatchMs: number;
  readonly baselineMs: number;
  readonly baseline: string;
  readonly target: string;
  /** Client CPU (user + system, children included), where measured. */
  readonly gitwatchCpuMs?: number;
  readonly baselineCpuMs?: number;
}

const rows: Row[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Wall time of one command. Asynchronous, so the in-process proxy keeps serving while it runs. */
async function timed(command: string, args: string[], cwd: string, env: Record<string, string> = GIT_ENV): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr.slice(0, 500)}`);
  return ms;
}

interface Cost {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Wall time and CPU time (user + system, with every child it waited for) of one command, from bash's `times`. */
async function measured(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Cost> {
  const file = path.join(cwd, '.bench-times');
  const script = '"$@"; s=$?; times > "$BENCH_TIMES"; exit $s';
  const ms = await timed('bash', ['-c', script, 'bash', command, ...args], cwd, { ...env, BENCH_TIMES: file });
  // Second line: the children's user and system time, as "0m1.234s 0m0.567s".
  const children = (await readFile(file, 'utf8')).split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { ms, cpuMs: seconds * 1000 };
}

interface Side {
  run(): Promise<Cost>;
}

interface Sides {
  readonly gitwatch: Side;
  readonly shell: Side;
  /** gitwatch on Node 24, when BENCH_NODE24 names one. */
  readonly gitwatch24?: Side | undefined;
}

interface SetUpOptions {
  /** The config's `defaults` (SSH settings). */
  readonly defaults?: Record<string, unknown>;
  /** Extra environment for the shell loop (how its git reaches SSH). */
  readonly shellEnv?: Record<string, string>;
}

async function setUp(fixture: Fixture, urls: readonly string[], label: string, options: SetUpOptions = {}): Promise<Sides> {
  const dir = path.join(fixture.root, label);
  await mkdir(dir, { recursive: true });
  const repos = Object.fromEntries(urls.map((url, i) => [`r${i}`, { url, pipeline: ['true'] }]));
  await writeFile(path.join(dir, 'gitwatch.yaml'), stringify({ version: 1, ...(options.defaults ? { defaults: options.defaults } : {}), repos }));
  await writeFile(path.join(dir, 'repos.txt'), urls.map((url, i) => `r${i} ${url}\n`).join(''));
  const once = (node: string): Side => ({ run: () => measured(node, [BIN, '-q', 'once'], dir, GIT_ENV) });
  return {
    gitwatch: once(process.execPath),
    shell: { run: () => measured('bash', [SHELL_LOOP, 'repos.txt', 'shell-state', 'shell-checkouts'], dir, { ...GIT_ENV, ...options.shellEnv }) },
    gitwatch24: NODE24 === undefined ? undefined : once(NODE24),
  };
}

/** Alternates the sides, `before` each run, and keeps the medians. */
async function compare(name: string, target: string, sides: Sides, rounds: number, before: () => void = () => undefined): Promise<void> {
  const a: Cost[] = [];
  const b: Cost[] = [];
  const c: Cost[] = [];
  for (let i = 0; i < rounds; i++) {
    before();
    a.push(await sides.gitwatch.run());
    before();
    b.push(await sides.shell.run());
    if (sides.gitwatch24) {
      before();
      c.push(await sides.gitwatch24.run());
    }
  }
  const row = (label: string, costs: Cost[]): Row => ({
    name: label,
    gitwatchMs: median(costs.map((x) => x.ms)),
    baselineMs: median(b.map((x) => x.ms)),
    gitwatchCpuMs: median(costs.map((x) => x.cpuMs)),
    baselineCpuMs: median(b.map((x) => x.cpuMs)),
    baseline: 'shell loop',
    target,
  });
  rows.push(row(name, a));
  if (c.length > 0) rows.push(row(`${name} (Node 24)`, c));
  for (const r of rows.slice(c.length > 0 ? -2 : -1)) {
    console.error(
      `  ${r.name}: gitwatch ${r.gitwatchMs.toFixed(0)} ms (cpu ${r.gitwatchCpuMs?.toFixed(0)}), shell ${r.baselineMs.toFixed(0)} ms (cpu ${r.baselineCpuMs?.toFixed(0)})`,
    );
  }
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
      const unchangedTarget = n === 200 ? '≤ 0.4×' : n === 1000 ? 'cycle < 2 s' : '';
      await compare(`nothing changed, ${n} repos`, unchangedTarget, sides, rounds);
      if (SKIP.has('changed')) continue;
      let commit = 0;
      const changeAll = (): void => {
        commit++;
        for (const repo of fixture.repos) addCommit(repo, `change ${commit}`);
      };
      await compare(`every repo changed, ${n} repos`, n === 50 ? '≤ 0.7×' : '', sides, n >= 1000 ? 1 : Math.min(ROUNDS, 3), changeAll);
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
    const sides = { ...(await setUp(fixture, urls, 'slow')), gitwatch24: undefined };
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
  const nodes: [string, string][] = [[process.execPath, ''], ...(NODE24 === undefined ? [] : [[NODE24, ' (Node 24)'] as [string, string]])];
  const times = nodes.map(() => ({ base: [] as number[], version: [] as number[], validate: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    for (const [j, [node]] of nodes.entries()) {
      const t = times[j];
      if (t === undefined) continue;
      t.base.push(await timed(node, ['-e', '0'], ROOT));
      t.version.push(await timed(node, [BIN, '--version'], ROOT));
      t.validate.push(await timed(node, [BIN, 'validate', '-c', example], ROOT));
    }
  }
  for (const [j, [, label]] of nodes.entries()) {
    const t = times[j];
    if (t === undefined) continue;
    rows.push({ name: `gitwatch --version${label}`, gitwatchMs: median(t.version), baselineMs: median(t.base), baseline: 'node -e 0', target: '≤ 1.2×' });
    rows.push({
      name: `gitwatch validate (example)${label}`,
      gitwatchMs: median(t.validate),
      baselineMs: median(t.base),
      baseline: 'node -e 0',
      target: '≤ 1.6×',
    });
  }
}

/** The test helpers' servers want a test context only to stop them when it ends. */
function benchContext(): { t: TestContext; end: () => Promise<void> } {
  const after: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => void after.push(fn) } as unknown as TestContext;
  return { t, end: async () => void (await Promise.all(after.splice(0).map((fn) => fn()))) };
}

/** N repos behind `git http-backend` on 127.0.0.1 (basic auth), nothing changed. */
async function httpCase(): Promise<void> {
  if (HTTP_REPOS <= 0) return;
  console.error(`${HTTP_REPOS} smart-HTTP repos`);
  const fixture = await makeRepos(HTTP_REPOS);
  const { t, end } = benchContext();
  try {
    const server = await startHttpGit(t, { root: path.join(fixture.root, 'remotes'), user: 'bench', password: 'bench-token' });
    const urls = fixture.repos.map((r) => server.url(path.basename(r)).replace('http://', 'http://bench:bench-token@'));
    const sides = await setUp(fixture, urls, 'http');
    await sides.gitwatch.run();
    await sides.shell.run();
    await compare(`nothing changed, ${HTTP_REPOS} smart-HTTP repos`, '≤ 0.3× wall, ≤ 0.1× CPU', sides, Math.min(ROUNDS, 3));
  } finally {
    await end();
    await rm(fixture.root, { recursive: true, force: true });
  }
}

/** N repos behind the test sshd on 127.0.0.1, nothing changed. */
async function sshCase(): Promise<void> {
  if (SSH_REPOS <= 0) return;
  const missing = sshdMissing();
  if (missing !== undefined) return void console.error(`SSH case skipped: ${missing}`);
  console.error(`${SSH_REPOS} SSH repos`);
  const fixture = await makeRepos(SSH_REPOS);
  const { t, end } = benchContext();
  try {
    const sshd = await startSshd(t, path.join(fixture.root, 'sshd'));
    const urls = fixture.repos.map((r) => sshd.url(r));
    const sides = {
      ...(await setUp(fixture, urls, 'ssh', {
        defaults: { ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts },
        shellEnv: { GIT_SSH_COMMAND: `ssh -o BatchMode=yes -i ${sshd.clientKey} -o IdentitiesOnly=yes -o UserKnownHostsFile=${sshd.knownHosts}` },
      })),
      gitwatch24: undefined,
    };
    await sides.gitwatch.run();
    await sides.shell.run();
    await compare(`nothing changed, ${SSH_REPOS} SSH repos`, '≤ 0.3×', sides, Math.min(ROUNDS, 3));
  } finally {
    await end();
    await rm(fixture.root, { recursive: true, force: true });
  }
}

/** The daemon's CPU seconds so far, its own and its reaped children's (git), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime, stime, cutime, cstime, in clock ticks (100 a second on Linux).
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / 100;
}

async function soakCase(): Promise<string> {
  if (SOAK_MINUTES <= 0) return '';
  console.error(`daemon with ${SOAK_REPOS} repos for ${SOAK_MINUTES} min`);
  const fixture = await makeRepos(SOAK_REPOS);
  const dir = path.join(fixture.root, 'soak');
  await mkdir(dir);
  const repos = Object.fromEntries(fixture.repos.map((url, i) => [`r${i}`, { url: `file://${url}`, interval: '60s', pipeline: ['true'] }]));
  await writeFile(path.join(dir, 'gitwatch.yaml'), stringify({ version: 1, repos }));
  const child = spawn(process.execPath, [BIN, '-q', 'run'], { cwd: dir, env: GIT_ENV, stdio: 'ignore' });
  const rss: string[] = [];
  const cpu: string[] = [];
  try {
    const pid = child.pid ?? 0;
    let last = cpuSeconds(pid);
    for (let m = 1; m <= SOAK_MINUTES; m++) {
      await new Promise((r) => setTimeout(r, 60_000));
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss.push(`${(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024).toFixed(0)}`);
      const now = cpuSeconds(pid);
      cpu.push(`${(((now - last) / 60) * 100).toFixed(2)}%`);
      last = now;
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(fixture.root, { recursive: true, force: true });
  }
  return (
    `daemon, ${SOAK_REPOS} repos, interval 60s: resident MB at each minute: ${rss.join(', ')} (target < 100 MB); ` +
    `CPU of one core in each minute: ${cpu.join(', ')} (target < 1%; the first minute makes every checkout)`
  );
}

function printTable(soak: string): void {
  const lines = [
    '| case | gitwatch (median) | baseline (median) | ratio | client CPU, gitwatch / baseline | CPU ratio | target |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const cpu =
        r.gitwatchCpuMs !== undefined && r.baselineCpuMs !== undefined
          ? `${r.gitwatchCpuMs.toFixed(0)} / ${r.baselineCpuMs.toFixed(0)} ms | ${(r.gitwatchCpuMs / r.baselineCpuMs).toFixed(2)}`
          : ' | ';
      return `| ${r.name} | ${r.gitwatchMs.toFixed(0)} ms | ${r.baselineMs.toFixed(0)} ms (${r.baseline}) | ${(r.gitwatchMs / r.baselineMs).toFixed(2)} | ${cpu} | ${r.target} |`;
    }),
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
  if (!SKIP.has('startup')) await startupCases();
  if (!SKIP.has('status')) await daemonStatusCase();
  await repoCases();
  if (!SKIP.has('http')) await httpCase();
  if (!SKIP.has('ssh')) await sshCase();
  if (!SKIP.has('slow')) await slowRemoteCase();
  const depth = SKIP.has('depth') ? '' : await depthRows();
  let webhook = '';
  if (!SKIP.has('webhook')) {
    console.error('webhook latency');
    webhook = await webhookCase();
  }
  let page = '';
  if (!SKIP.has('page')) {
    console.error('status page');
    page = await statusPageCase();
  }
  printTable(await soakCase());
  if (webhook !== '') console.log(`\n${webhook}`);
  if (page !== '') console.log(`\n${page}`);
  if (depth !== '') console.log(`\n${depth}`);
}
