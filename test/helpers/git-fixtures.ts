// Real git repositories in temp folders for tests to commit into, and a real `git daemon` serving them.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { testEnv } from './temp.js';

export class TestRepo {
  private counter = 0;

  private constructor(
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** A repository with one commit on `branch`; background maintenance off so cleanup never races. */
  static async create(dir: string, branch = 'main'): Promise<TestRepo> {
    await mkdir(dir, { recursive: true });
    const repo = new TestRepo(dir, testEnv(dir));
    repo.git('init', '--quiet', '--initial-branch', branch);
    repo.git('config', 'gc.auto', '0');
    repo.git('config', 'maintenance.auto', 'false');
    // git daemon and file:// clients may fetch any reachable commit.
    repo.git('config', 'uploadpack.allowReachableSHA1InWant', 'true');
    await repo.commit({ 'README.md': '# test\n' }, 'initial');
    return repo;
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  head(ref = 'HEAD'): string {
    return this.git('rev-parse', ref);
  }

  /** Writes the files and commits them; returns the new commit's SHA. */
  async commit(files: Record<string, string> = {}, message?: string): Promise<string> {
    this.counter++;
    const all = Object.keys(files).length > 0 ? files : { 'counter.txt': `${this.counter} ${Date.now()}\n` };
    for (const [name, content] of Object.entries(all)) {
      await mkdir(path.dirname(path.join(this.dir, name)), { recursive: true });
      await writeFile(path.join(this.dir, name), content);
    }
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message ?? `commit ${this.counter}`);
    return this.head();
  }

  /**
   * Adds `count` commits on the current branch in one `git fast-import`, each rewriting `file` with `bytes`
   * of random text (which does not compress): history that costs what its size says. Returns the new head.
   */
  history(count: number, bytes: number, file = 'blob.txt'): string {
    const parts: string[] = [];
    const from = this.head();
    for (let i = 0; i < count; i++) {
      const message = `history ${i}\n`;
      const content = `${randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64')}\n`;
      parts.push(`commit refs/heads/${this.git('symbolic-ref', '--short', 'HEAD')}\n`);
      parts.push(`committer Test <test@example.invalid> ${1_700_000_000 + i} +0000\n`);
      parts.push(`data ${Buffer.byteLength(message)}\n${message}`);
      if (i === 0) parts.push(`from ${from}\n`);
      parts.push(`M 644 inline ${file}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
    }
    execFileSync('git', ['fast-import', '--quiet'], { cwd: this.dir, env: this.env, input: parts.join(''), stdio: ['pipe', 'ignore', 'pipe'] });
    this.git('reset', '--quiet', '--hard');
    return this.head();
  }

  /** Rewrites history: the branch now points at a new commit that is not a descendant of the old head. */
  async forcePush(): Promise<string> {
    this.git('reset', '--quiet', '--hard', 'HEAD~1');
    return this.commit({ 'rewritten.txt': `${Date.now()}\n` }, 'rewritten');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, limitMs = 10_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** `git daemon` on 127.0.0.1 serving every repo under `basePath`; stopped when the test ends. */
export async function startGitDaemon(t: TestContext, basePath: string): Promise<{ url: (name: string) => string; port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'git',
    ['daemon', '--reuseaddr', '--export-all', `--base-path=${basePath}`, '--listen=127.0.0.1', `--port=${port}`, '--enable=upload-pack', basePath],
    {
      env: testEnv(basePath),
      stdio: 'ignore',
    },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  t.after(stop);
  await waitForPort(port, child);
  return { url: (name) => `git://127.0.0.1:${port}/${name}`, port, stop };
}
