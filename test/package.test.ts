// The package as users install it: `npm pack`, a global install into an empty prefix, and the installed
// `gitwatch` run end to end on a local repo, with nothing from this clone's node_modules within reach.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { TestRepo } from './helpers/git-fixtures.js';
import { tempDir, testEnv } from './helpers/temp.js';
import pkg from '../package.json' with { type: 'json' };
import schema from '../schema/gitwatch.schema.json' with { type: 'json' };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('the npm package', () => {
  test('packs only what runs, installs into an empty prefix without dependencies, and runs init, validate, schema and once', async (t) => {
    const dir = await tempDir(t, 'gitwatch-pkg-');
    const prefix = path.join(dir, 'prefix');
    // npm reads its cache and config under HOME: a fresh one, so nothing of this machine's npm setup counts.
    const env = testEnv(dir, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
    delete env['NODE_PATH'];
    for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];

    // The suite has just built dist/; packing must not rebuild it under the other tests' feet.
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, env, maxBuffer: 16 << 20 });
    const [result] = JSON.parse(packed.stdout) as PackResult[];
    assert.ok(result, packed.stdout);
    assert.equal(result.filename, `${pkg.name}-${pkg.version}.tgz`);
    const files = result.files.map((f) => f.path).sort();
    const shipped = ['bin/gitwatch.js', 'package.json', 'README.md', 'dist/cli/THIRD-PARTY-LICENSES.txt'];
    const extra = files.filter((f) => !shipped.includes(f) && !/^dist\/cli\/[\w-]+\.js$/.test(f));
    assert.deepEqual(extra, [], "the tarball holds the CLI bundle, its libraries' licenses, its bin and README, nothing else");
    assert.ok(files.includes('dist/cli/gitwatch.js'), 'the bundle entry is packed');
    assert.ok(files.includes('dist/cli/THIRD-PARTY-LICENSES.txt'), "the bundled libraries' license notices are packed");

    const installed = await run('npm', ['install', '--global', '--prefix', prefix, path.join(dir, result.filename)], { cwd: dir, env, timeout: 120_000 });
    assert.match(installed.stdout, /added 1 package/, 'the bundle needs no dependencies');
    assert.doesNotMatch(installed.stderr, /EBADENGINE/, `engines (${pkg.engines.node}) names the Node that runs the suite, ${process.version}`);
    const pkgDir = path.join(prefix, 'lib', 'node_modules', pkg.name);
    assert.equal(existsSync(path.join(pkgDir, 'node_modules')), false);
    const bin = path.join(prefix, 'bin', 'gitwatch');
    // The bin's `#!/usr/bin/env node` finds the node that runs this test.
    const userEnv = { ...env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${env['PATH'] ?? ''}` };
    const gitwatch = (cwd: string, ...args: string[]) => run(bin, args, { cwd, env: userEnv, timeout: 60_000, maxBuffer: 16 << 20 });

    assert.equal((await gitwatch(dir, '--version')).stdout.trim(), pkg.version);
    assert.deepEqual(JSON.parse((await gitwatch(dir, 'schema')).stdout), schema);

    // init: the config points at a schema beside it, so the folder keeps working when it or gitwatch moves.
    const first = path.join(dir, 'ops');
    await mkdir(first);
    const init = await gitwatch(first, 'init');
    assert.match(init.stdout, /wrote gitwatch\.yaml and gitwatch\.schema\.json/);
    const project = path.join(dir, 'moved-ops');
    await rename(first, project);
    const starter = await readFile(path.join(project, 'gitwatch.yaml'), 'utf8');
    const ref = /^# yaml-language-server: \$schema=(\S+)\n/.exec(starter)?.[1];
    assert.equal(ref, './gitwatch.schema.json');
    assert.deepEqual(JSON.parse(await readFile(path.resolve(project, ref), 'utf8')), schema);
    assert.match((await gitwatch(project, 'validate')).stdout, /gitwatch\.yaml: valid \(1 repo\)/);

    // once, on a real repo, records the head it ran for.
    const repo = await TestRepo.create(path.join(dir, 'site'));
    const head = await repo.commit({ 'index.html': 'hello\n' });
    await writeFile(
      path.join(project, 'gitwatch.yaml'),
      `# yaml-language-server: $schema=./gitwatch.schema.json\n${stringify({
        version: 1,
        repos: { site: { url: repo.url, branch: 'main', pipeline: ['cat index.html > ../../deployed.txt'] } },
      })}`,
    );
    const once = await gitwatch(project, 'once', '--no-color');
    assert.match(once.stdout, /site/);
    assert.equal(await readFile(path.join(project, 'deployed.txt'), 'utf8'), 'hello\n');
    const lock = JSON.parse(await readFile(path.join(project, '.gitwatch.lock.json'), 'utf8')) as { repos: Record<string, { commit: string }> };
    assert.equal(lock.repos['site']?.commit, head);
    assert.deepEqual((await readdir(pkgDir)).sort(), ['README.md', 'bin', 'dist', 'package.json']);
  });
});
