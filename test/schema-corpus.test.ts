// The schema catches everything it can express, so an editor flags it while typing. An independent
// validator (Debian's python3-jsonschema) and `gitwatch validate` judge a corpus of good and bad configs;
// every disagreement is listed. One the schema could express fails the test; the ones it cannot (they
// need other keys' values, the environment, or more than a pattern can say) are expected, with the reason.
// And the other way round, never allowed: the schema refusing a config that `validate` accepts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import type { RawConfig } from '../src/config/raw.js';
import { resolveConfig } from '../src/config/resolve.js';
import { YamlSource } from '../src/config/yaml-source.js';
// The validator gitwatch itself runs, compiled from the schema at build time.
import validateSchema from '../src/config/schema-validator.js';
import { runCli } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/temp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA = path.join(ROOT, 'schema/gitwatch.schema.json');

interface Case {
  readonly name: string;
  /** The config: an object written as YAML, or the YAML text itself. */
  readonly config: unknown;
  readonly env?: Record<string, string>;
  /** What `validate` says. */
  readonly valid: boolean;
  /** Why the schema cannot express this problem: then the schema accepts what `validate` refuses. */
  readonly beyond?: string;
}

const pipeline = ['true'];
/** One repo `site` with these keys over a minimal one. */
const site = (keys: Record<string, unknown>, top: Record<string, unknown> = {}): unknown => ({
  version: 1,
  ...top,
  repos: { site: { url: '/srv/site', pipeline, ...keys } },
});
const withoutPipeline = (keys: Record<string, unknown>): unknown => ({ version: 1, repos: { site: { url: '/srv/site', ...keys } } });

const GOOD: Case[] = [
  { name: 'minimal', config: site({}), valid: true },
  {
    name: 'jobs instead of pipeline',
    config: withoutPipeline({ jobs: { build: { steps: ['make'] }, test: { needs: ['build'], steps: ['make test'] } } }),
    valid: true,
  },
  {
    name: 'every url form',
    config: urls([
      'https://example.com/a.git',
      'http://example.com/a.git',
      'ssh://git@example.com/a.git',
      'git@example.com:org/a.git',
      'git://example.com/a.git',
      'file:///srv/a.git',
      './a',
      'HTTPS://example.com/b.git',
      'git+ssh://example.com/c.git',
    ]),
    valid: true,
  },
  { name: 'url credentials from a variable', config: site({ url: 'https://ci:${TOKEN}@example.com/a.git' }), env: { TOKEN: 'tok-1234' }, valid: true },
  { name: 'url wholly from a variable', config: site({ url: '${REPO_URL}' }), env: { REPO_URL: 'https://example.com/a.git' }, valid: true },
  { name: 'an ssh url without a password', config: site({ url: 'ssh://deploy@example.com:2222/a.git' }), valid: true },
  {
    name: 'branch names',
    config: branches(['main', 'release/1.0', 'feature/x.y', 'a.b', 'v1', 'release/*', 'release/**', 'v[0-9]*', 'a[^b]', 'x?']),
    valid: true,
  },
  { name: 'a branch from a variable with a default', config: site({ branch: '${BRANCH:-main}' }), valid: true },
  { name: 'a branch whose default holds what a name may not', config: site({ branch: '${BRANCH:-a..b}' }), env: { BRANCH: 'main' }, valid: true },
  { name: 'tag and semver', config: site({ tag: 'v*', semver: '^1.2' }), valid: true },
  {
    name: 'durations of 1s and more',
    config: site(
      { interval: '1s', git_timeout: 1, timeout: '500ms', retry: { attempts: 2, backoff: '1000ms' } },
      { defaults: { interval: '0.5m', git_timeout: '1h30m' } },
    ),
    valid: true,
  },
  {
    name: 'durations near 1s',
    config: site({ interval: '0.9995s', git_timeout: '999.5ms' }, { defaults: { interval: 0.9995, git_timeout: '0.0167m' } }),
    valid: true,
  },
  {
    name: 'notify urls',
    config: site({
      notify: [
        { on: ['failure'], url: 'https://hooks.example.com/x' },
        { on: ['success'], url: 'HTTP://h/x' },
        { on: ['failure'], url: '${HOOK_URL}' },
        { on: ['failure'], url: 'https:hooks.example.com/y' },
      ],
    }),
    env: { HOOK_URL: 'https://hooks.example.com/z' },
    valid: true,
  },
  {
    name: 'a step cwd inside the checkout',
    config: site({
      pipeline: [
        { run: 'make', cwd: 'web' },
        { run: 'make', cwd: './web' },
        { run: 'make', cwd: 'a/../b' },
        { run: 'make', cwd: '..web' },
      ],
    }),
    valid: true,
  },
  { name: 'a webhook secret from a variable', config: site({ webhook_secret: '${HOOK_SECRET}' }), env: { HOOK_SECRET: 'hook-1234' }, valid: true },
];

const BAD: Case[] = [
  // What the issue listed, and its neighbours.
  { name: 'neither pipeline nor jobs', config: withoutPipeline({}), valid: false },
  { name: 'both pipeline and jobs', config: site({ jobs: { build: { steps: ['make'] } } }), valid: false },
  { name: 'interval 500ms', config: site({ interval: '500ms' }), valid: false },
  { name: 'interval 0.5', config: site({ interval: 0.5 }), valid: false },
  { name: 'git_timeout 500ms', config: site({ git_timeout: '500ms' }), valid: false },
  { name: 'git_timeout 0.5 in defaults', config: site({}, { defaults: { git_timeout: 0.5 } }), valid: false },
  { name: 'interval 0.01m', config: site({ interval: '0.01m' }), valid: false },
  { name: 'interval 0.0002h', config: site({ interval: '0.0002h' }), valid: false },
  { name: 'interval 0.99s', config: site({ interval: '0.99s' }), valid: false },
  { name: 'retry backoff 500ms', config: site({ retry: { attempts: 1, backoff: '500ms' } }), valid: false },
  { name: 'a zero timeout', config: site({ timeout: '0s' }), valid: false },
  { name: 'a zero step timeout of two parts', config: site({ pipeline: [{ run: 'make', timeout: '0m 0s' }] }), valid: false },
  { name: 'url ext::', config: site({ url: 'ext::sh -c touch% /tmp/pwned' }), valid: false },
  { name: 'url fd::', config: site({ url: 'fd::3' }), valid: false },
  { name: 'url ftp://', config: site({ url: 'ftp://example.com/a.git' }), valid: false },
  { name: 'url of another scheme', config: site({ url: 'gopher://example.com/a' }), valid: false },
  { name: 'url with a leading -', config: site({ url: '-oProxyCommand=touch /tmp/pwned' }), valid: false },
  { name: 'url with a leading - before a variable', config: site({ url: '-${X}' }), env: { X: 'u' }, valid: false },
  { name: 'url with a control character', config: site({ url: 'https://example.com/a\tb.git' }), valid: false },
  { name: 'url with a host that starts with -', config: site({ url: 'ssh://-oProxyCommand=x/a.git' }), valid: false },
  // Not scp-like (no host name holds '='): a local path of that name, which git never reads as an option.
  { name: 'a local path that looks like a host option', config: site({ url: 'git@-oProxyCommand=x:a.git' }), valid: true },
  { name: 'a password in an ssh url', config: site({ url: 'ssh://git:secret@example.com/a.git' }), valid: false },
  { name: 'branch --orphan', config: site({ branch: '--orphan' }), valid: false },
  { name: 'branch a..b', config: site({ branch: 'a..b' }), valid: false },
  ...[
    'a b',
    'a~1',
    'a^',
    'a:b',
    'a\\b',
    '@',
    'x.lock',
    'a/x.lock/b',
    '.hidden',
    'a/.b',
    'a/',
    '/a',
    'a//b',
    'refs/heads/main',
    'x@{1}',
    'a.',
    'a'.repeat(256),
    'a..*',
  ].map((branch): Case => ({
    name: `branch ${JSON.stringify(branch.length > 20 ? `${branch.slice(0, 8)}…(${branch.length})` : branch)}`,
    config: site({ branch }),
    valid: false,
  })),
  { name: 'tag -x', config: site({ tag: '-x' }), valid: false },
  { name: 'tag v..*', config: site({ tag: 'v..*' }), valid: false },
  { name: 'branch together with tag', config: site({ branch: 'main', tag: 'v*' }), valid: false },
  { name: 'semver without tag', config: site({ semver: '^1.2' }), valid: false },
  { name: 'notify url ftp://', config: site({ notify: [{ on: ['failure'], url: 'ftp://hooks.example.com/x' }] }), valid: false },
  { name: 'notify url without a scheme', config: site({ notify: [{ on: ['failure'], url: 'hooks.example.com/x' }] }), valid: false },
  { name: 'notify url mailto:', config: site({ notify: [{ on: ['failure'], url: 'mailto:${WHO}' }] }), env: { WHO: 'ops@example.com' }, valid: false },
  { name: 'an absolute step cwd', config: site({ pipeline: [{ run: 'make', cwd: '/etc' }] }), valid: false },
  { name: 'a step cwd above the checkout', config: site({ pipeline: [{ run: 'make', cwd: '../x' }] }), valid: false },
  { name: 'a step cwd above the checkout, after ./', config: site({ pipeline: [{ run: 'make', cwd: './../x' }] }), valid: false },
  { name: 'verify with both kinds of keys', config: site({ verify: { mode: 'head', gpg_keys: ['k.asc'], ssh_allowed_signers: 'signers' } }), valid: false },
  { name: 'verify without keys', config: site({ verify: { mode: 'head' } }), valid: false },
  { name: 'verify without a mode', config: site({ verify: { gpg_keys: ['k.asc'] } }), valid: false },
  { name: 'an unknown verify mode', config: site({ verify: { mode: 'commit', gpg_keys: ['k.asc'] } }), valid: false },
  { name: 'verify mode tag on a branch', config: site({ verify: { mode: 'tag', gpg_keys: ['k.asc'] } }), valid: false },
  { name: 'an empty list of gpg keys', config: site({ verify: { mode: 'head', gpg_keys: [] } }), valid: false },
  // What the schema said before.
  { name: 'an unknown key', config: site({ intervall: '1m' }), valid: false },
  { name: 'the repo name logs', config: { version: 1, repos: { logs: { url: '/srv/a', pipeline } } }, valid: false },
  { name: 'version 2', config: { version: 2, repos: { site: { url: '/srv/a', pipeline } } }, valid: false },
  // What no JSON Schema can say.
  {
    name: 'a job cycle',
    config: withoutPipeline({ jobs: { a: { needs: ['b'], steps: ['x'] }, b: { needs: ['a'], steps: ['x'] } } }),
    valid: false,
    beyond: 'a cycle runs through the values of several keys',
  },
  {
    name: 'an unknown need',
    config: withoutPipeline({ jobs: { a: { needs: ['nope'], steps: ['x'] } } }),
    valid: false,
    beyond: 'a need must name another key of the same map',
  },
  {
    name: 'a job that needs itself',
    config: withoutPipeline({ jobs: { a: { needs: ['a'], steps: ['x'] } } }),
    valid: false,
    beyond: 'a value must differ from the key that holds it',
  },
  {
    name: 'overlapping checkouts',
    config: { version: 1, repos: { a: { url: '/srv/a', checkout: '/srv/deploy', pipeline }, b: { url: '/srv/b', checkout: '/srv/deploy/b', pipeline } } },
    valid: false,
    beyond: 'paths of different repos compared, after resolving them',
  },
  {
    name: 'a checkout that holds the config',
    config: site({ checkout: '.' }),
    valid: false,
    beyond: "the config file's own folder is known only when it is read",
  },
  {
    name: 'verify mode tag from defaults on a branch',
    config: site({}, { defaults: { verify: { mode: 'tag', gpg_keys: ['k.asc'] } } }),
    valid: false,
    beyond: "a default reaches a repo's rules only once it is resolved into the repo",
  },
  { name: 'a key file that is not there', config: site({ verify: { mode: 'head', gpg_keys: ['missing.asc'] } }), valid: false, beyond: 'the file system' },
  { name: 'an unset ${VAR}', config: site({ url: '${UNSET_URL}' }), valid: false, beyond: 'the environment' },
  { name: 'a secret set but empty', config: site({ webhook_secret: '${HOOK_SECRET}' }), env: { HOOK_SECRET: '' }, valid: false, beyond: 'the environment' },
  { name: 'a branch whose variable holds a bad name', config: site({ branch: '${BRANCH}' }), env: { BRANCH: 'a..b' }, valid: false, beyond: 'the environment' },
  {
    name: 'an invalid semver range',
    config: site({ tag: 'v*', semver: 'not a range' }),
    valid: false,
    beyond: "node-semver's range grammar, with its loose forms, is more than a pattern this schema keeps readable",
  },
  {
    name: 'durations that add up to less than 1s',
    config: site({ interval: '400ms 400ms' }),
    valid: false,
    beyond: 'a sum of any number of parts, each with any number of decimals, is no regular language',
  },
  {
    name: 'a step cwd that leaves the checkout further on',
    config: site({ pipeline: [{ run: 'make', cwd: 'a/../../x' }] }),
    valid: false,
    beyond: 'counting folders up and down is no regular language',
  },
  { name: 'a url the URL parser refuses', config: site({ url: 'https://exa mple.com/a.git' }), valid: false, beyond: "the WHATWG URL parser's host rules" },
];

function urls(list: readonly string[]): unknown {
  return { version: 1, repos: Object.fromEntries(list.map((url, i) => [`r${i}`, { url, pipeline, checkout: `/srv/deploy/r${i}` }])) };
}

function branches(list: readonly string[]): unknown {
  return { version: 1, repos: Object.fromEntries(list.map((branch, i) => [`r${i}`, { url: '/srv/site', branch, pipeline, checkout: `/srv/deploy/r${i}` }])) };
}

/** Each case's YAML through python3-jsonschema (Draft 2020-12), which also checks the schema itself. */
const PYTHON = `
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
out = {}
for name, instance in json.load(open(sys.argv[2])).items():
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    out[name] = [("/".join(str(p) for p in e.absolute_path) or "(top)") + ": " + e.message[:160] for e in errors]
print(json.dumps(out))
`;

function jsonschemaMissing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `python3 cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `python3 cannot import jsonschema: ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

/** `gitwatch validate --json`, a few at a time. */
async function validateAll(dir: string, cases: readonly Case[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i] as Case;
      const folder = path.join(dir, `case-${i}`);
      await mkdir(folder);
      const file = path.join(folder, 'gitwatch.yaml');
      await writeFile(file, typeof c.config === 'string' ? c.config : stringify(c.config));
      const result = await runCli(['validate', '--json', '-c', file], { cwd: folder, env: testEnv(folder, c.env ?? {}) });
      const json = JSON.parse(result.stdout) as { ok: boolean; diagnostics: { message: string; path: string }[] };
      assert.equal(result.code, json.ok ? 0 : 2, `${c.name}: ${result.stdout}${result.stderr}`);
      out.set(
        c.name,
        json.diagnostics.map((d) => `${d.path}: ${d.message}`),
      );
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return out;
}

describe('the schema, judged by an independent validator', () => {
  test('python3-jsonschema and gitwatch validate agree on the corpus, but for what no schema can express', async (t) => {
    const missing = jsonschemaMissing();
    if (missing !== undefined) {
      // .ci/run installs python3-jsonschema and sets this: there the test must run.
      if (process.env['GITWATCH_TEST_REQUIRE_JSONSCHEMA'] === '1') assert.fail(`GITWATCH_TEST_REQUIRE_JSONSCHEMA=1, but ${missing}`);
      t.skip(`${missing} (apt-get install python3-jsonschema)`);
      return;
    }
    const cases = [...GOOD, ...BAD];
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
    const dir = await tempDir(t);
    // The python side reads JSON: each YAML text as the YAML library reads it (gitwatch reads it so too).
    const instances = Object.fromEntries(cases.map((c) => [c.name, parseYaml(typeof c.config === 'string' ? c.config : stringify(c.config)) as unknown]));
    const corpus = path.join(dir, 'corpus.json');
    await writeFile(corpus, JSON.stringify(instances));
    const python = spawnSync('python3', ['-c', PYTHON, SCHEMA, corpus], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(python.status, 0, python.stderr);
    const schemaSays = JSON.parse(python.stdout) as Record<string, string[]>;
    const gitwatchSays = await validateAll(dir, cases);

    const unexpected: string[] = [];
    const expected: string[] = [];
    for (const c of cases) {
      const schemaErrors = schemaSays[c.name] ?? [];
      const problems = gitwatchSays.get(c.name) ?? [];
      const schemaOk = schemaErrors.length === 0;
      const gitwatchOk = problems.length === 0;
      if (gitwatchOk !== c.valid)
        unexpected.push(
          `${c.name}: validate ${gitwatchOk ? 'accepts' : `refuses (${problems.join('; ')})`}, the corpus says it is ${c.valid ? 'valid' : 'invalid'}`,
        );
      if (schemaOk === gitwatchOk) {
        if (c.beyond !== undefined)
          unexpected.push(`${c.name}: marked as beyond the schema (${c.beyond}), yet the schema refuses it too: ${schemaErrors.join('; ')}`);
        continue;
      }
      const line = schemaOk
        ? `${c.name}: the schema accepts, validate refuses: ${problems.join('; ')}`
        : `${c.name}: the schema refuses (${schemaErrors.join('; ')}), validate accepts`;
      if (schemaOk && c.beyond !== undefined) expected.push(`${line} [beyond a schema: ${c.beyond}]`);
      else unexpected.push(line);
    }
    t.diagnostic(`${cases.length} configs; ${expected.length + unexpected.length} disagreements`);
    for (const line of [...expected, ...unexpected]) t.diagnostic(line);
    assert.deepEqual(unexpected, [], 'disagreements the schema could avoid');
    assert.equal(expected.length, BAD.filter((c) => c.beyond !== undefined).length);
  });

  test("the schema's rules never refuse a value that validate accepts (fuzzed url, branch, tag, durations, notify url, cwd)", () => {
    const chars = (alphabet: string, maxLength = 12): fc.Arbitrary<string> => fc.array(fc.constantFrom(...alphabet), { maxLength }).map((cs) => cs.join(''));
    const ref = fc.oneof(chars('ab./-*?[]^~:@{}$ \\lock'), fc.constantFrom('a..b', '@', 'x.lock', '${B}', '${B:-a..b}', '[..]x', 'a/**/', '**/x.lock'));
    const url = fc.oneof(
      chars('ahtps:/@-.x${}:A='),
      fc.constantFrom('ext::x', 'https://u:${P}@h/x', 'ssh://u:${P}@h/x', 'git@h:x', '${U}::x', 'git@-o=x:y', 'ssh://u:@h/x'),
    );
    const duration = fc.oneof(
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc
        .tuple(
          fc.constantFrom('0', '00', '1', '0.', '9', '99', '999', '0.0', '0.01', '0.016', '0.0002'),
          chars('0123456789', 4),
          fc.constantFrom('ms', 's', 'm', 'h', ' s'),
        )
        .map(([a, b, u]) => `${a}${b}${u}`.replace(/\.(?=\D|$)/, '.0')),
    );
    const notifyUrl = fc.oneof(chars('htps:/ \t${}Ax', 14), fc.constantFrom('https://h/x', ' https://h', 'ht\ttps://h', 'mailto:x', '${H}', 'h${X}'));
    const cwd = fc.oneof(chars('./ab', 8), fc.constantFrom('..', '../', './..', './/..', '..a'));
    fc.assert(
      fc.property(ref, fc.boolean(), url, duration, notifyUrl, cwd, (name, asTag, repoUrl, interval, hook, folder) => {
        const config = {
          version: 1,
          repos: {
            site: {
              url: repoUrl === '' ? 'x' : repoUrl,
              ...(name === '' ? {} : asTag ? { tag: name } : { branch: name }),
              interval,
              pipeline: [{ run: 'make', ...(folder === '' ? {} : { cwd: folder }) }],
              notify: hook === '' ? [] : [{ on: ['failure'], url: hook }],
            },
          },
        };
        const env = { B: 'main', P: 'pw', U: 'https', H: 'https://h/x', X: 'ttps://h' };
        const text = stringify(config);
        // The resolver alone: validate's own rules, without the schema.
        const accepted = resolveConfig(config as unknown as RawConfig, new YamlSource('gitwatch.yaml', text), '/srv/config/gitwatch.yaml', env).ok;
        if (accepted)
          assert.equal(validateSchema(config), true, `the schema refuses what the resolver accepts:\n${text}${JSON.stringify(validateSchema.errors)}`);
      }),
      { numRuns: 3000 },
    );
  });
});
