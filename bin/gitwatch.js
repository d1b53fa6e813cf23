#!/usr/bin/env node
// `--version` is answered here, from package.json, with nothing else loaded: scripts and health checks ask
// it often, and even setting up the compile cache below costs more than it saves for one line.
//
// Otherwise: Node 22+ can keep V8's compiled code between runs (module.enableCompileCache), which shortens
// every start; Node 20 has no such cache. The cache sits in a folder of this user's own, made owner-only:
// compiled code that another local user could write would run as this one.
import { readFileSync } from 'node:fs';

if (process.argv.length === 3 && process.argv[2] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { default: module } = await import('node:module');
  const { lstatSync, mkdirSync } = await import('node:fs');
  const { tmpdir, userInfo } = await import('node:os');
  const { default: path } = await import('node:path');
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
}
