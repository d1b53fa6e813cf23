// The checkout's own .git, which steps may use and rewrite; gitwatch's git commands never read it back.

import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The checkout gets a .git of its own, rebuilt on every run, so steps can run git there. It borrows the
 * store's objects (alternates) but shares no config or hooks with it: whatever a step writes into it
 * never reaches gitwatch's own git commands.
 */
export async function writeStepGitDir(store: string, worktree: string, sha: string): Promise<void> {
  const dir = path.join(worktree, '.git');
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'objects', 'info'), { recursive: true });
  await mkdir(path.join(dir, 'refs', 'heads'), { recursive: true });
  await mkdir(path.join(dir, 'refs', 'tags'), { recursive: true });
  await writeFile(path.join(dir, 'HEAD'), `${sha}\n`);
  await writeFile(path.join(dir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n');
  await writeFile(path.join(dir, 'objects', 'info', 'alternates'), `${path.join(path.resolve(store), 'objects')}\n`);
  await copyFile(path.join(store, 'index'), path.join(dir, 'index'));
  await copyFile(path.join(store, 'shallow'), path.join(dir, 'shallow')).catch(() => undefined);
}
