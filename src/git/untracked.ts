// Whether a checkout holds anything git does not track, found from here: the store's index names every
// tracked file, and a walk of the checkout finds any other. `git clean` before every fetch cost a process
// per new commit (about a tenth of gitwatch's CPU when every repo changed); it now runs only when the walk
// finds something to remove, or cannot tell. Every doubt answers "yes": a name compared byte for byte, an
// index in a format not read here, submodules, or a checkout too big for a quick walk all leave it to git.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Past this many tracked files (or files walked), git is faster at it than a walk from here. */
const MAX_FILES = 5000;

/** The tracked paths, or undefined when the index is in a form not read here. */
function trackedPaths(index: Buffer): Set<string> | undefined {
  if (index.length < 12 || index.toString('latin1', 0, 4) !== 'DIRC') return undefined;
  const version = index.readUInt32BE(4);
  const count = index.readUInt32BE(8);
  // Version 4 compresses names against the previous entry; gitwatch's stores never write it.
  if ((version !== 2 && version !== 3) || count > MAX_FILES) return undefined;
  const paths = new Set<string>();
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 62 > index.length) return undefined;
    const mode = index.readUInt32BE(at + 24);
    const flags = index.readUInt16BE(at + 60);
    // A submodule is a folder git clean treats apart (-ff): not second-guessed here.
    if ((mode & 0o170000) === 0o160000) return undefined;
    const nameAt = at + 62 + (flags & 0x4000 ? 2 : 0);
    const end = index.indexOf(0, nameAt);
    if (end === -1) return undefined;
    paths.add(index.toString('utf8', nameAt, end));
    // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
    at += (end - at + 8) & ~7;
  }
  // A split index keeps its entries in another file; a sparse one lists folders: both left to git.
  for (let ext = at; ext + 8 <= index.length - 20; ext += 8 + index.readUInt32BE(ext + 4)) {
    const signature = index.toString('latin1', ext, ext + 4);
    if (signature === 'link' || signature === 'sdir') return undefined;
  }
  return paths;
}

/** Whether `worktree` may hold an untracked or ignored file or folder (outside its own `.git`). */
export async function mayHaveUntracked(store: string, worktree: string): Promise<boolean> {
  const index = await readFile(path.join(store, 'index')).catch(() => undefined);
  const tracked = index === undefined ? undefined : trackedPaths(index);
  if (tracked === undefined) return true;
  const folders = new Set<string>();
  for (const file of tracked) for (let i = file.indexOf('/'); i !== -1; i = file.indexOf('/', i + 1)) folders.add(file.slice(0, i));
  let walked = 0;
  const stack = [''];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    let entries;
    try {
      entries = await readdir(path.join(worktree, dir), { withFileTypes: true });
    } catch {
      return true;
    }
    for (const entry of entries) {
      if (++walked > MAX_FILES) return true;
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (rel === '.git') continue;
      if (entry.isDirectory()) {
        if (!folders.has(rel)) return true;
        stack.push(rel);
      } else if (!tracked.has(rel)) return true;
    }
  }
  return false;
}
