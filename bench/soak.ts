// Soak (`npm run soak -- --minutes 10`): `gitwatch run` on 100 repos at a 1 s interval, with a commit
// arriving every 2 s, for a set time. Resident memory and open file descriptors are sampled every 10 s;
// the run fails if either grew by more than 10% from the minute after the warm-up to the last minute. Open
// fds rise and fall with the git processes in flight, so each window counts by its lowest fd count (a
// leak lifts the floor) and its median resident size.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { addCommit, GIT_ENV, makeRepos } from './fixtures.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, repos: { type: 'string', default: '100' }, 'warmup-minutes': { type: 'string' } },
});
const minutes = Number(values.minutes);
const count = Number(values.repos);
// Long enough for every repo to have run once and for V8's heap to settle, at most a fifth of the run.
const warmupMs = Number(values['warmup-minutes'] ?? Math.min(2, minutes / 5)) * 60_000;
const BIN = path.resolve(import.meta.dirname, '../../bin/gitwatch.js');

function sample(pid: number): { rssMb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}

const fixture = await makeRepos(count, 'gitwatch-soak-');
const repos = Object.fromEntries(fixture.repos.map((url, i) => [`r${i}`, { url, interval: '1s', pipeline: ['true'] }]));
const config = path.join(fixture.root, 'gitwatch.yaml');
await writeFile(config, stringify({ version: 1, repos }));
const child = spawn(process.execPath, [BIN, '-q', 'run', '-c', config], { env: GIT_ENV, stdio: ['ignore', 'ignore', 'inherit'] });
const pid = child.pid ?? 0;
console.log(`soak: daemon pid ${pid}, ${count} repos at 1s, ${minutes} min, warm-up ${warmupMs / 60_000} min`);
console.log('   time  rss_mb  fds  commits');

const started = Date.now();
const end = started + minutes * 60_000;
let commits = 0;
const samples: { at: number; rssMb: number; fds: number }[] = [];
let nextSample = started + 10_000;
while (Date.now() < end && child.exitCode === null) {
  await new Promise((r) => setTimeout(r, 2_000));
  // New commits keep fetches, checkouts and runs going, not only ls-remote.
  addCommit(fixture.repos[commits % fixture.repos.length] ?? '', `soak ${commits}`);
  commits++;
  if (Date.now() < nextSample) continue;
  nextSample += 10_000;
  const elapsed = Date.now() - started;
  const now = { at: elapsed, ...sample(pid) };
  samples.push(now);
  const t = `${Math.floor(elapsed / 60_000)}m${String(Math.floor(elapsed / 1000) % 60).padStart(2, '0')}s`;
  console.log(`${t.padStart(7)}  ${now.rssMb.toFixed(1).padStart(6)}  ${String(now.fds).padStart(3)}  ${String(commits).padStart(7)}`);
}
const crashed = child.exitCode !== null;
child.kill('SIGTERM');
await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
await rm(fixture.root, { recursive: true, force: true });

const growth = (from: number, to: number): number => (to - from) / from;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const runMs = minutes * 60_000;
const windowOf = (from: number, to: number) => samples.filter((x) => x.at >= from && x.at < to);
const first = windowOf(warmupMs, warmupMs + 60_000);
const last = windowOf(runMs - 60_000, runMs + 60_000);
const problems: string[] = [];
if (crashed) problems.push('the daemon exited during the soak');
if (first.length === 0 || last.length === 0 || runMs - 60_000 < warmupMs + 60_000)
  problems.push('too short: the run needs a minute after the warm-up and a last minute apart from it');
else {
  const [rss0, rss1] = [median(first.map((x) => x.rssMb)), median(last.map((x) => x.rssMb))];
  const [fd0, fd1] = [Math.min(...first.map((x) => x.fds)), Math.min(...last.map((x) => x.fds))];
  console.log(
    `soak: minute after warm-up → last minute: rss (median) ${rss0.toFixed(1)} → ${rss1.toFixed(1)} MB (${(growth(rss0, rss1) * 100).toFixed(1)}%), fds (lowest) ${fd0} → ${fd1} (${(growth(fd0, fd1) * 100).toFixed(1)}%); ${commits} commits`,
  );
  if (growth(rss0, rss1) > 0.1) problems.push(`resident memory grew ${(growth(rss0, rss1) * 100).toFixed(1)}%`);
  if (growth(fd0, fd1) > 0.1) problems.push(`open fds grew ${(growth(fd0, fd1) * 100).toFixed(1)}%`);
}
if (problems.length > 0) {
  console.error(`soak FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
} else console.log('soak: passed');
