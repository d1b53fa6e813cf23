// Benchmark fixtures: N bare repositories in a temp folder, made quickly by copying one.

import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const GIT_ENV: Record<string, string> = {
  ...(Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_'))) as Record<string, string>),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface Fixture {
  readonly root: string;
  readonly repos: readonly string[];
}

/** N bare repositories with one commit each (a few files), under a new temp folder. */
export async function makeRepos(n: number, prefix = 'gitwatch-bench-'): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const work = path.join(root, 'work');
  await mkdir(work);
  git(work, 'init', '-q', '-b', 'main');
  for (let i = 0; i < 20; i++) await writeFile(path.join(work, `file-${i}.txt`), `line ${i}\n`.repeat(50));
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'initial');
  const template = path.join(root, 'template.git');
  git(root, 'clone', '-q', '--bare', work, template);
  git(template, 'config', 'uploadpack.allowReachableSHA1InWant', 'true');
  const repos: string[] = [];
  for (let i = 0; i < n; i++) {
    const dest = path.join(root, 'remotes', `repo-${String(i).padStart(4, '0')}.git`);
    await cp(template, dest, { recursive: true });
    repos.push(dest);
  }
  return { root, repos };
}

/** One new commit on main of the bare repo, without a work tree. */
export function addCommit(bare: string, message: string): string {
  const tree = git(bare, 'rev-parse', 'main^{tree}');
  const sha = git(bare, 'commit-tree', tree, '-p', 'main', '-m', message);
  git(bare, 'update-ref', 'refs/heads/main', sha);
  return sha;
}
