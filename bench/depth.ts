// First run of a repository with a long, heavy history: the default `depth` (1) against `depth: 0`, in
// the same run, alternating. Time of `gitwatch once` and bytes gitwatch keeps on disk (store and checkout).

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { GIT_ENV, git } from './fixtures.js';

/** A bare repository of `commits` commits, each rewriting one file of `bytes` random bytes (which do not compress). */
export function heavyRepo(root: string, commits: number, bytes: number): string {
  const bare = path.join(root, 'heavy.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  const parts: Buffer[] = [];
  for (let i = 0; i < commits; i++) {
    const message = `commit ${i}\n`;
    const content = randomBytes(bytes);
    parts.push(Buffer.from(`commit refs/heads/main\ncommitter bench <bench@example.invalid> ${1_700_000_000 + i} +0000\ndata ${message.length}\n${message}`));
    parts.push(Buffer.from(`M 644 inline data.bin\ndata ${content.length}\n`), content, Buffer.from('\n'));
  }
  execFileSync('git', ['fast-import', '--quiet'], {
    cwd: bare,
    env: GIT_ENV,
    input: Buffer.concat(parts),
    stdio: ['pipe', 'ignore', 'pipe'],
    maxBuffer: 1 << 30,
  });
  git(bare, 'config', 'uploadpack.allowReachableSHA1InWant', 'true');
  return bare;
}

async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function firstRun(bin: string, root: string, url: string, depth: number | undefined, round: number): Promise<{ ms: number; bytes: number }> {
  const dir = path.join(root, `run-${depth ?? 'default'}-${round}`);
  await mkdir(dir);
  const repo = { url, pipeline: ['true'], ...(depth === undefined ? {} : { depth }) };
  await writeFile(path.join(dir, 'gitwatch.yaml'), stringify({ version: 1, repos: { heavy: repo } }));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [bin, '-q', 'once'], { cwd: dir, env: GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`gitwatch once failed (${code}): ${stderr.slice(0, 500)}`);
  const bytes = await bytesIn(path.join(dir, '.gitwatch'));
  await rm(dir, { recursive: true, force: true });
  return { ms, bytes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export interface DepthResult {
  readonly shallowMs: number;
  readonly fullMs: number;
  readonly shallowBytes: number;
  readonly fullBytes: number;
  readonly historyBytes: number;
}

/** `commits` commits of `bytes` each; `rounds` first runs per side, alternating. */
export async function depthCase(bin: string, commits: number, bytes: number, rounds: number): Promise<DepthResult> {
  const root = await mkdtemp(path.join(tmpdir(), 'gitwatch-bench-depth-'));
  try {
    const bare = heavyRepo(root, commits, bytes);
    const historyBytes = await bytesIn(bare);
    const url = `file://${bare}`;
    const shallow: { ms: number; bytes: number }[] = [];
    const full: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      shallow.push(await firstRun(bin, root, url, undefined, i));
      full.push(await firstRun(bin, root, url, 0, i));
    }
    return {
      shallowMs: median(shallow.map((r) => r.ms)),
      fullMs: median(full.map((r) => r.ms)),
      shallowBytes: median(shallow.map((r) => r.bytes)),
      fullBytes: median(full.map((r) => r.bytes)),
      historyBytes,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
