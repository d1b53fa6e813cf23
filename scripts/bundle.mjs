// Bundles the CLI for start-up speed (`npm run build`): one small entry chunk, and each command's code and
// dependencies in chunks loaded only when that command runs. bin/gitwatch.js imports the entry.

import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear the old ones so only what this build made ships.
await rm('dist/cli', { recursive: true, force: true });

const result = await build({
  entryPoints: { gitwatch: 'dist/src/cli/main.js' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  legalComments: 'none',
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __gitwatchRequire } from 'node:module'; const require = __gitwatchRequire(import.meta.url);" },
  // isomorphic-git's package sends Node to its CommonJS build, which bundles whole; its ES module build lets
  // the bundle keep only the ref listing and what it needs (about half the size to load on an HTTP check).
  alias: { 'isomorphic-git': './node_modules/isomorphic-git/index.js' },
  logLevel: 'warning',
  metafile: true,
});

// What each chunk holds and imports, for test/startup.test.ts (which checks what a command loads); outside
// dist/cli, so it does not ship.
await writeFile('dist/bundle-meta.json', JSON.stringify(result.metafile));

// The bundle is a copy of its libraries, and their licenses ask that their notices travel with it.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) packages.add(m[1]);
}
const notices = [];
for (const dir of [...packages].sort()) {
  const { name, version, license } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  const file = (await readdir(dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const text = file === undefined ? '' : `\n${(await readFile(path.join(dir, file), 'utf8')).trim()}\n`;
  notices.push(`${name} ${version} (${license})${text}`);
}
await writeFile('dist/cli/THIRD-PARTY-LICENSES.txt', `gitwatch's bundle includes these packages.\n\n${notices.join('\n---\n\n')}`);
