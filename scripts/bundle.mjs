// Bundles the CLI for start-up speed (`npm run build`): one small entry chunk, and each command's code and
// dependencies in chunks loaded only when that command runs. bin/gitwatch.js imports the entry.

import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear the old ones so only what this build made ships.
await rm('dist/cli', { recursive: true, force: true });

await build({
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
});
