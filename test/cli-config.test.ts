import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeProject } from './helpers/project.js';
import schema from '../schema/gitwatch.schema.json' with { type: 'json' };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const FIVE_MISTAKES = `version: 1
defaults:
  intervall: 30s
repos:
  site:
    url: --upload-pack=evil
    branch: 0123
    pipeline:
      - run: make
        timeout: soon
  Docs:
    url: ../docs
    pipeline: [make]
`;

describe('gitwatch validate', () => {
  test('prints all five mistakes with their positions and exits 2', async (t) => {
    const project = await makeProject(t, FIVE_MISTAKES);
    const result = await project.cli('validate');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    const heads = result.stderr.split('\n').filter((l) => /^gitwatch\.yaml:\d+:/.test(l));
    assert.deepEqual(heads, [
      "gitwatch.yaml:3:3: unknown key 'intervall': did you mean 'interval'? (at defaults.intervall)",
      "gitwatch.yaml:6:10: url may not start with '-' (git would read it as an option) (at repos.site.url)",
      'gitwatch.yaml:7:13: expected a string, found an integer (0123); quote it to make it a string (at repos.site.branch)',
      'gitwatch.yaml:10:18: expected a duration like "500ms", "30s", "5m" or "1h30m" (or a number of seconds), found "soon" (at repos.site.pipeline[0].timeout)',
      "gitwatch.yaml:11:3: invalid repo name 'Docs': use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters (at repos.Docs)",
    ]);
    // The offending line is shown with the column marked.
    assert.match(result.stderr, /7 \| {5}branch: 0123\n {2}\| {13}\^/);
    assert.match(result.stderr, /gitwatch\.yaml: 5 problems/);
  });

  test('--json prints the diagnostics for editors and CI annotations', async (t) => {
    const project = await makeProject(t, FIVE_MISTAKES);
    const result = await project.cli('validate', '--json');
    assert.equal(result.code, 2);
    assert.equal(result.stderr, '', 'the JSON is the whole answer');
    const out = JSON.parse(result.stdout) as { ok: boolean; diagnostics: { file: string; line: number; col: number; path: string; message: string }[] };
    assert.equal(out.ok, false);
    assert.deepEqual(
      out.diagnostics.map((d) => `${d.line}:${d.col} ${d.path}`),
      ['3:3 defaults.intervall', '6:10 repos.site.url', '7:13 repos.site.branch', '10:18 repos.site.pipeline[0].timeout', '11:3 repos.Docs'],
    );
  });

  test('the example is valid', async (t) => {
    const project = await makeProject(t);
    const result = await project.cli('validate', '-c', path.join(ROOT, 'examples/gitwatch.yaml'));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /valid \(1 repo\)/);
  });

  test('finds the config through GITWATCH_CONFIG, and says so when there is none', async (t) => {
    const project = await makeProject(t);
    const none = await project.cli('validate');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no config file/);
    const missing = await project.cli('validate', '-c', 'nope.yaml');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read config nope\.yaml: no such file/);
  });
});

describe('gitwatch init', () => {
  test('writes a commented starter config that validates, and refuses to overwrite it', async (t) => {
    const project = await makeProject(t);
    const first = await project.cli('init');
    assert.equal(first.code, 0, first.stderr);
    const text = await readFile(project.configPath, 'utf8');
    // The schema is written beside the config, so the reference holds wherever gitwatch is installed.
    assert.match(text, /^# yaml-language-server: \$schema=\.\/gitwatch\.schema\.json\n/);
    const schemaPath = path.join(project.dir, 'gitwatch.schema.json');
    assert.deepEqual(JSON.parse(await readFile(schemaPath, 'utf8')), schema);
    assert.ok(text.split('\n').filter((l) => l.trim().startsWith('#')).length >= 8, 'the starter config explains itself');
    const valid = await project.cli('validate');
    assert.equal(valid.code, 0, valid.stderr);
    // The commented examples are valid once uncommented.
    const uncommented = text
      .replace(/^ {2}# (api:)/m, '  $1')
      .replace(/^ {2}# {3}/gm, '    ')
      .replace(/^ {4}# (paths|retry)/gm, '    $1');
    assert.match(uncommented, /^ {2}api:\n {4}url: .*\n {4}jobs:$/m);
    assert.match(uncommented, /^ {4}paths: /m);
    await writeFile(project.configPath, uncommented);
    const examples = await project.cli('validate');
    assert.equal(examples.code, 0, examples.stdout + examples.stderr);
    await writeFile(project.configPath, text);

    const again = await project.cli('init');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    assert.equal(await readFile(project.configPath, 'utf8'), text);

    const other = await project.cli('init', 'ops/gitwatch.yml');
    assert.equal(other.code, 2, 'a missing folder is an error, not a crash');
    assert.match(other.stderr, /cannot write/);
  });

  test('keeps a schema file that is already there, and says how to refresh it', async (t) => {
    const project = await makeProject(t);
    const schemaPath = path.join(project.dir, 'gitwatch.schema.json');
    await writeFile(schemaPath, '{"mine": true}\n');
    const result = await project.cli('init');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /kept the existing gitwatch\.schema\.json \(refresh it with: gitwatch schema > gitwatch\.schema\.json\)/);
    assert.equal(await readFile(schemaPath, 'utf8'), '{"mine": true}\n');

    const other = await project.cli('schema');
    assert.equal(other.code, 0, other.stderr);
    await writeFile(schemaPath, other.stdout);
    await mkdir(path.join(project.dir, 'ops'));
    await writeFile(path.join(project.dir, 'ops', 'gitwatch.schema.json'), other.stdout);
    const again = await project.cli('init', 'ops/gitwatch.yaml');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /wrote ops\/gitwatch\.yaml and kept ops\/gitwatch\.schema\.json \(up to date\)/);
  });
});

describe('gitwatch schema', () => {
  test('prints the JSON Schema that validate checks against', async (t) => {
    const project = await makeProject(t);
    const result = await project.cli('schema');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(JSON.parse(result.stdout), schema);
  });
});

describe('help', () => {
  test('every command’s --help lists the options every command takes', async (t) => {
    const project = await makeProject(t);
    for (const command of ['run', 'once', 'validate', 'plan', 'status', 'trigger', 'logs', 'pause', 'resume', 'cancel', 'init', 'schema']) {
      const result = await project.cli(command, '--help');
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
      for (const option of ['-c, --config <file>', '--log-format <format>', '--no-color', '-q, --quiet', '-v, --verbose']) {
        assert.ok(result.stdout.includes(option), `${command} --help lists ${option}`);
      }
    }
  });
});
