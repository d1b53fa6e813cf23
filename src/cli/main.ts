// The CLI's entry. `--version` is answered here with nothing else loaded, when this file is run directly
// (bin/gitwatch.js answers it before even this): scripts and health checks ask it often, and loading the
// command line's grammar (commander) would double its cost. Everything else goes
// through the process boundary (boundary.ts), loaded on demand.

import pkg from '../../package.json' with { type: 'json' };

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') process.stdout.write(`${pkg.version}\n`);
else await (await import('./boundary.js')).start(argv, pkg.version);
