#!/usr/bin/env node
// Node 22+ can keep V8's compiled code between runs (module.enableCompileCache), which shortens every start;
// Node 20 has no such cache. The cache sits in a folder of this user's own, made owner-only: compiled code
// that another local user could write would run as this one.
import module from 'node:module';
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

if (typeof module.enableCompileCache === 'function') {
  try {
    const { uid } = userInfo();
    const dir = path.join(tmpdir(), `gitwatch-compile-cache-${uid}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // lstat: a symlink put there by someone else is not followed to a folder that merely looks right.
    const s = lstatSync(dir);
    if (s.isDirectory() && s.uid === uid && (s.mode & 0o077) === 0) module.enableCompileCache(dir);
  } catch {
    // No cache: a slower start, nothing worse.
  }
}
await import('../dist/cli/gitwatch.js');
