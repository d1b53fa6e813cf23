// What one git process costs gitwatch when started through node:child_process `spawn` against execa,
// with the options gitwatch's runner uses: its own process group, stdin ignored, stdout and stderr piped
// and read, the environment given whole (execa: `extendEnv: false`). The two are run in pairs, in
// alternating order, so load from elsewhere on the machine falls on both alike.
//
//   npm run build && node dist/bench/spawn.js [RUNS]      (default 500 of each)
//
// Per process: the wall time until the process has exited and its pipes have closed, and the CPU time
// gitwatch's own process spent (user + system), which is what a daemon running hundreds of checks a
// cycle pays whatever the machine's load.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GIT_ENV, git } from './fixtures.js';

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

type Runner = (args: readonly string[]) => Promise<void>;

function viaSpawn(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: GIT_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`git exited with ${code}`))));
  });
}

async function viaExeca(args: readonly string[]): Promise<void> {
  const { execa } = await import('execa');
  const child = execa('git', args, {
    env: GIT_ENV,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
  const result = await child;
  if (result.exitCode !== 0) throw new Error(`git exited with ${result.exitCode}`);
}

async function measure(run: Runner, args: readonly string[]): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run(args);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (at - lo);
}

function summary(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const f = (n: number): string => n.toFixed(2).padStart(7);
  return `median ${f(quantile(sorted, 0.5))}  mean ${f(mean)}  p10 ${f(quantile(sorted, 0.1))}  p90 ${f(quantile(sorted, 0.9))}`;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 500);
  const root = await mkdtemp(path.join(tmpdir(), 'gitwatch-bench-spawn-'));
  try {
    const repo = path.join(root, 'repo');
    git(root, 'init', '-q', '-b', 'main', repo);
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'one');
    const args = [`--git-dir=${path.join(repo, '.git')}`, 'rev-parse', 'HEAD'];

    // execa's first import is paid once per gitwatch process, not per git process: timed apart.
    const importStart = performance.now();
    await import('execa');
    const importMs = performance.now() - importStart;
    for (let i = 0; i < 20; i++) {
      await measure(viaSpawn, args);
      await measure(viaExeca, args);
    }

    const samples = { spawn: [] as Sample[], execa: [] as Sample[] };
    for (let i = 0; i < runs; i++) {
      const order: ['spawn' | 'execa', Runner][] = [
        ['spawn', viaSpawn],
        ['execa', viaExeca],
      ];
      if (i % 2 === 1) order.reverse();
      for (const [name, run] of order) samples[name].push(await measure(run, args));
    }

    const pairs = (key: keyof Sample): number[] => samples.execa.map((e, i) => e[key] - (samples.spawn[i]?.[key] ?? 0));
    console.log(`git ${args.slice(1).join(' ')}, ${runs} runs each, alternating; node ${process.version}; times in ms per process`);
    console.log(`execa first import: ${importMs.toFixed(1)} ms (once per gitwatch process)`);
    for (const name of ['spawn', 'execa'] as const) {
      console.log(`${name.padEnd(5)} wall  ${summary(samples[name].map((s) => s.wallMs))}`);
      console.log(`${name.padEnd(5)} cpu   ${summary(samples[name].map((s) => s.cpuMs))}`);
    }
    console.log(`execa - spawn, per pair: wall ${summary(pairs('wallMs'))}`);
    console.log(`execa - spawn, per pair: cpu  ${summary(pairs('cpuMs'))}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
