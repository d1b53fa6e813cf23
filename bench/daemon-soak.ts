// The daemon's resident memory and CPU over time with N watched repos (`node dist/bench/daemon-soak.js N MINUTES INTERVAL`).
// Each minute it also asks `gitwatch status --json` which repos are overdue: their next check more than 5 s in
// the past, so not checked within their interval (checks of long waits end on a shared one-second tick).

import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { GIT_ENV, makeRepos } from './fixtures.js';

const n = Number(process.argv[2] ?? 100);
const minutes = Number(process.argv[3] ?? 10);
const interval = process.argv[4] ?? '30s';
const BIN = path.resolve(import.meta.dirname, '../../bin/gitwatch.js');
const TICKS = Number(readFileSync('/proc/self/stat', 'utf8') ? 100 : 100);

function sample(pid: number): { rssMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
  return { rssMb: rssKb / 1024, cpuS: cpu };
}

const fixture = await makeRepos(n, 'gitwatch-soak-');
const repos = Object.fromEntries(fixture.repos.map((url, i) => [`r${i}`, { url, interval, pipeline: ['true'] }]));
const config = path.join(fixture.root, 'gitwatch.yaml');
await writeFile(config, stringify({ version: 1, repos }));
const child = spawn(process.execPath, [BIN, '-q', 'run', '-c', config], { env: GIT_ENV, stdio: ['ignore', 'ignore', 'inherit'] });
const pid = child.pid ?? 0;
console.log(`daemon pid ${pid}, ${n} repos, interval ${interval}, ${minutes} min`);
console.log('minute  rss_mb  cpu_s_total  cpu_pct_last_minute  overdue  most_overdue_s');

/** Repos whose next check is more than 5 s past, and the most overdue one's lateness in seconds. */
async function overdue(): Promise<{ count: number; worstS: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'status', '--json', '-c', config], { env: GIT_ENV, maxBuffer: 1 << 30 });
  const now = Date.now();
  const late = (JSON.parse(stdout) as { repos: { nextCheckAt: string | null }[] }).repos
    .map((r) => (r.nextCheckAt === null ? 0 : (now - Date.parse(r.nextCheckAt)) / 1000))
    .filter((s) => s > 5);
  return { count: late.length, worstS: Math.max(0, ...late) };
}
let last = sample(pid);
for (let m = 1; m <= minutes; m++) {
  await new Promise((r) => setTimeout(r, 60_000));
  const now = sample(pid);
  const late = await overdue();
  console.log(
    `${String(m).padStart(6)}  ${now.rssMb.toFixed(1).padStart(6)}  ${now.cpuS.toFixed(2).padStart(11)}  ${(((now.cpuS - last.cpuS) / 60) * 100).toFixed(2).padStart(19)}  ${String(late.count).padStart(7)}  ${late.worstS.toFixed(1).padStart(14)}`,
  );
  last = now;
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await rm(fixture.root, { recursive: true, force: true });
