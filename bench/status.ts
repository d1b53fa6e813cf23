// `gitwatch status` against a daemon watching 1,000 repos, against `node -e 0`: what a person (or a
// monitoring script) waits for. The daemon is settled first (every repo checked and run once).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { GIT_ENV, makeRepos } from './fixtures.js';

export interface StatusTimes {
  readonly statusMs: number[];
  readonly nodeMs: number[];
}

async function wall(args: string[], cwd: string): Promise<{ ms: number; out: string }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, out };
}

export async function statusCase(bin: string, repos: number, rounds: number): Promise<StatusTimes> {
  const fixture = await makeRepos(repos);
  const dir = path.join(fixture.root, 'status');
  await mkdir(dir);
  const config = Object.fromEntries(fixture.repos.map((url, i) => [`r${i}`, { url: `file://${url}`, interval: '1h', pipeline: ['true'] }]));
  await writeFile(path.join(dir, 'gitwatch.yaml'), stringify({ version: 1, repos: config }));
  const daemon = spawn(process.execPath, [bin, '-q', 'run'], { cwd: dir, env: GIT_ENV, stdio: 'ignore' });
  try {
    // Settled: the socket answers and every repo has run once.
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!existsSync(path.join(dir, '.gitwatch.lock.json.sock'))) continue;
      const { out } = await wall([bin, 'status', '--json'], dir);
      const report = JSON.parse(out) as { repos: { lastRun: unknown; phase: string }[] };
      if (report.repos.every((r) => r.lastRun !== null && r.phase === 'idle')) break;
    }
    const statusMs: number[] = [];
    const nodeMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      nodeMs.push((await wall(['-e', '0'], dir)).ms);
      statusMs.push((await wall([bin, 'status'], dir)).ms);
    }
    return { statusMs, nodeMs };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await rm(fixture.root, { recursive: true, force: true });
  }
}
