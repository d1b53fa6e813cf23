// Each fault is named for what it is: not "command not found" for a command line too long, not "check
// failed" for a state that could not be written, not "remote unreachable" for a corrupt remote; and
// nothing from outside (a config, a step's output) reaches the reader's terminal as control sequences.

import assert from 'node:assert/strict';
import { chmod, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** Characters that reorder the text around them on a terminal (Trojan Source). */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('fault messages', () => {
  test('a step whose command line is too large says E2BIG, not "command not found"', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    // One argument over Linux's 128 KiB limit per argument.
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [`echo ${'x'.repeat(200_000)}`] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /could not start: its command and environment are too large for the system \(E2BIG\)/);
    assert.doesNotMatch(result.stdout, /command not found/);
    // Nothing started, so nothing's output is waited for (a 5 s drain, once).
    const took = /site ✖ failed \S+ in (\d+(?:\.\d+)?)(ms|s)/.exec(result.stdout);
    assert.ok(took?.[1] !== undefined, result.stdout);
    assert.ok(Number(took[1]) * (took[2] === 's' ? 1000 : 1) < 4000, `the run took ${took[1]}${took[2] ?? ''}`);
  });

  test('a state that cannot be written after a good run is said so, not "check failed"', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t);
    // The step puts a folder where the state goes: the rename over it fails after the pipeline succeeded.
    await project.writeConfig({ version: 1, repos: { site: { url: remote.url, pipeline: [`mkdir '${project.statePath}'`] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`site ✖ succeeded ${remote.head().slice(0, 12)} not recorded: cannot write state file .*\\(it runs again`));
    assert.doesNotMatch(result.stdout + result.stderr, /check failed/);
    assert.deepEqual(
      (await readdir(project.dir)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp file is left',
    );
  });

  test('a remote with a corrupt object is named as such, not "remote unreachable"', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });
    await remote.commit({ 'data.txt': 'payload\n' });
    const blob = remote.git('rev-parse', 'HEAD:data.txt');
    const file = path.join(remote.dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2));
    await chmod(file, 0o644);
    await writeFile(file, 'not zlib\n');
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /site ✖ check failed: fetching \S+: corrupt object in the remote: .*is corrupt \(repair the remote/);
    assert.doesNotMatch(result.stdout, /unreachable/);
  });

  test('status shows a malformed date in the state as unknown, not "NaNd ago"', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['true'] } } });
    const lastRun = { commit: remote.head(), status: 'succeeded', startedAt: 'yesterday', finishedAt: 'soon-ish' };
    await writeFile(project.statePath, JSON.stringify({ version: 1, repos: { site: { commit: remote.head(), lastRun } } }));
    const result = await project.cli('status');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /unknown time/);
    assert.doesNotMatch(result.stdout, /NaN/);
  });

  test('a config error shows a cut excerpt of a 5 MB line, around the problem', async (t) => {
    const project = await makeProject(t);
    await project.writeConfig(`version: 1\nrepos:\n  site:\n    url: /x\n    interval: "${'a'.repeat(5_000_000)}"\n    pipeline: ["true"]\n`);
    const result = await project.cli('validate');
    assert.equal(result.code, 2);
    assert.ok(result.stderr.length < 2_000, `${result.stderr.length} characters printed`);
    assert.match(result.stderr, /\n5 \| {5}interval: "a+…\n {2}\| {15}\^\n/);
  });

  test('a binary config prints escaped, never raw control bytes', async (t) => {
    const project = await makeProject(t);
    await writeFile(project.configPath, Buffer.from('version: 1\nrepos: \x1b]0;pwned\x07\x1b[2J\x00\xff garbage: [\n', 'latin1'));
    const result = await project.cli('validate');
    assert.equal(result.code, 2);
    assert.doesNotMatch(result.stderr, RAW_CONTROL);
    assert.match(result.stderr, /\\x1b\]0;pwned\\x07\\x1b\[2J\\x00\\ufffd/);
  });

  test('plain output strips terminal control sequences from step output; JSON escapes them', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const noisy = `printf 'title\\033]0;pwned\\007 \\033[2J\\033[31mred\\033[0m\\302\\2332J done\\n'; exit 3`;
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [noisy] } } });
    const plain = await project.cli('once');
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /site printf[^\n]*│ title red done\n/);
    assert.doesNotMatch(plain.stdout, RAW_CONTROL);

    await remote.commit();
    const json = await project.cli('once', '-v', '--log-format', 'json');
    const lines = json.stdout.trim().split('\n');
    assert.doesNotMatch(json.stdout, RAW_CONTROL);
    const output = lines.map((l) => JSON.parse(l) as { event: string; line?: string }).find((e) => e.event === 'step-output');
    assert.equal(output?.line, 'title\x1b]0;pwned\x07 \x1b[2J\x1b[31mred\x1b[0m\u009b2J done', 'JSON keeps the text exactly, escaped');
  });
});

describe('bidi controls from outside', () => {
  test('a branch name with a right-to-left override prints escaped, in plain and JSON output and in status', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    remote.git('branch', 'invoice\u202etxt.exe', 'main');
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: 'invoice*', pipeline: ['true'] } } });
    const plain = await project.cli('once');
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /site@invoice\\u202etxt\.exe ✔ succeeded/);
    assert.doesNotMatch(plain.stdout + plain.stderr, BIDI);

    await remote.commit();
    remote.git('branch', '-f', 'invoice\u202etxt.exe', 'main');
    const json = await project.cli('once', '--log-format', 'json');
    assert.doesNotMatch(json.stdout, BIDI);
    const names = json.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { repo?: string }).repo);
    assert.ok(names.includes('site@invoice\u202etxt.exe'), 'JSON keeps the name exactly, escaped');

    const status = await project.cli('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /site@invoice\\u202etxt\.exe/);
    assert.doesNotMatch(status.stdout, BIDI);
  });
});
