import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseDuration, formatDuration } from '../src/rules/duration.js';
import { parseConfig } from '../src/config/parse.js';
import { quickStateValue, scanStateValue } from '../src/config/state-path.js';
import type { ResolvedConfig } from '../src/config/types.js';

const DIR = '/srv/app';
const FILE = path.join(DIR, 'gitwatch.yaml');

function parse(text: string, env: Record<string, string> = {}): ReturnType<typeof parseConfig> {
  return parseConfig(text, { file: 'gitwatch.yaml', absolutePath: FILE, env });
}

function ok(text: string, env: Record<string, string> = {}): ResolvedConfig {
  const result = parse(text, env);
  if (!result.ok) assert.fail(result.error.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return result.value;
}

function errors(text: string, env: Record<string, string> = {}): string[] {
  const result = parse(text, env);
  assert.equal(result.ok, false, 'the config was accepted');
  return result.ok ? [] : result.error.map((d) => `${d.line}:${d.col}: ${d.message}${d.path ? ` (at ${d.path})` : ''}`);
}

const MINIMAL = 'version: 1\nrepos:\n  site:\n    url: https://example.com/site.git\n    pipeline: [make]\n';

describe('config', () => {
  test('a file missing both required keys names both, and every other problem', () => {
    assert.deepEqual(errors('foo: 1\n'), [
      "1:1: missing required key 'repos'",
      "1:1: missing required key 'version'",
      "1:1: unknown key 'foo' (known keys: version, state, workdir, listen_token, concurrency, defaults, repos) (at foo)",
    ]);
  });

  test('an env value that is a map is an error at its place, never a crash', () => {
    const found = errors('version: 1\ndefaults:\n  env: { TZ: { toString: false } }\nrepos:\n  a: { url: x, pipeline: [a] }\n');
    assert.ok(
      found.some((e) => /^3:\d+: .*\(at defaults\.env\.TZ\)$/.test(e)),
      found.join('\n'),
    );
  });

  test('a zero duration is an error in every duration key, never "not set"', () => {
    assert.deepEqual(
      errors(
        [
          'version: 1',
          'defaults: { interval: 0s, timeout: 0, git_timeout: 0ms }',
          'repos:',
          '  site:',
          '    url: x',
          '    interval: 0s',
          '    timeout: 0m',
          '    retry: { attempts: 1, backoff: 0s }',
          '    pipeline: [{ run: a, timeout: 0h }]',
          '',
        ].join('\n'),
      ),
      [
        '2:23: must be at least 1s, found 0ms (at defaults.interval)',
        '2:36: expected a duration like "500ms", "30s", "5m" or "1h30m" (or a number of seconds), found 0 (at defaults.timeout)',
        '2:52: must be at least 1s, found 0ms (at defaults.git_timeout)',
        '6:15: must be at least 1s, found 0ms (at repos.site.interval)',
        '7:14: must be more than 0 (at repos.site.timeout)',
        '8:36: must be at least 1s, found 0ms (at repos.site.retry.backoff)',
        '9:35: must be more than 0 (at repos.site.pipeline[0].timeout)',
      ],
    );
  });

  test('applies the built-in defaults and resolves paths against the config folder', () => {
    const config = ok(MINIMAL);
    assert.equal(config.statePath, path.join(DIR, '.gitwatch.lock.json'));
    assert.equal(config.workdir, path.join(DIR, '.gitwatch'));
    const [site] = config.repos;
    assert.ok(site);
    assert.equal(site.intervalMs, 60_000);
    assert.equal(site.gitTimeoutMs, 120_000);
    assert.equal(site.branch, undefined);
    assert.equal(site.checkout, path.join(DIR, '.gitwatch', 'site'));
    assert.deepEqual(site.steps, [
      { name: 'make', job: undefined, label: 'make', run: 'make', cwd: undefined, timeoutMs: 1_800_000, env: {}, continueOnError: false },
    ]);
  });

  test('a checkout beside another, or beside the workdir, whose name only starts the same, is no overlap', () => {
    // Folders whose names share a prefix do not nest: '/srv/app/out' and '/srv/app/out2', '/srv/app' and '/srv/app-data'.
    const config = ok(
      'version: 1\nworkdir: /srv/app/work\nrepos:\n' +
        '  a: { url: x, checkout: out, pipeline: [a] }\n' +
        '  b: { url: y, checkout: out2, pipeline: [b] }\n' +
        '  c: { url: z, checkout: ../app-data, pipeline: [c] }\n' +
        '  d: { url: w, checkout: ..work, pipeline: [d] }\n' +
        '  e: { url: v, checkout: /srv/app/wor, pipeline: [e] }\n' +
        '  f: { url: u, checkout: gitwatch, pipeline: [f] }\n' +
        '  g: { url: t, checkout: .gitwatch.lock, pipeline: [g] }\n',
    );
    assert.deepEqual(
      config.repos.map((r) => r.checkout),
      ['/srv/app/out', '/srv/app/out2', '/srv/app-data', '/srv/app/..work', '/srv/app/wor', '/srv/app/gitwatch', '/srv/app/.gitwatch.lock'],
    );
  });

  test('repo settings override defaults, and env maps merge', () => {
    const config = ok(`version: 1
state: var/state.json
workdir: /var/lib/gitwatch
defaults:
  interval: 5m
  timeout: 10m
  git_timeout: 30s
  env: { TZ: UTC, LEVEL: info }
repos:
  site:
    url: ../site
    branch: release/1.x
    interval: 1h30m
    checkout: ./deploy/site
    env: { LEVEL: debug, PORT: 8080, ON: true }
    pipeline:
      - make
      - name: build
        run: npm run build
        cwd: web
        timeout: 90
        env: { CI: "true" }
        continue_on_error: true
`);
    assert.equal(config.statePath, path.join(DIR, 'var/state.json'));
    assert.equal(config.workdir, '/var/lib/gitwatch');
    const site = config.repos[0];
    assert.ok(site);
    assert.equal(site.remote, '/srv/site');
    assert.equal(site.displayUrl, '../site');
    assert.equal(site.branch, 'release/1.x');
    assert.equal(site.intervalMs, 5_400_000);
    assert.equal(site.gitTimeoutMs, 30_000);
    assert.equal(site.checkout, path.join(DIR, 'deploy/site'));
    assert.deepEqual(site.env, { TZ: 'UTC', LEVEL: 'debug', PORT: '8080', ON: 'true' });
    assert.deepEqual(site.steps[0], {
      name: 'make',
      job: undefined,
      label: 'make',
      run: 'make',
      cwd: undefined,
      timeoutMs: 600_000,
      env: {},
      continueOnError: false,
    });
    assert.deepEqual(site.steps[1], {
      name: 'build',
      job: undefined,
      label: 'build',
      run: 'npm run build',
      cwd: 'web',
      timeoutMs: 90_000,
      env: { CI: 'true' },
      continueOnError: true,
    });
  });

  test('interpolates ${VAR} and ${VAR:-default} where allowed, never in run', () => {
    const config = ok(
      `version: 1
repos:
  site:
    url: https://\${USER_NAME}:\${TOKEN}@git.example.com/org/site.git
    branch: \${BRANCH:-main}
    env: { WHERE: "\${REGION}-1", LITERAL: "$\${HOME}" }
    pipeline: ['echo \${HOME}']
`,
      { TOKEN: 's3cret', USER_NAME: 'bot', REGION: 'eu' },
    );
    const site = config.repos[0];
    assert.ok(site);
    assert.equal(site.remote, 'https://git.example.com/org/site.git');
    assert.equal(site.displayUrl, 'https://git.example.com/org/site.git');
    assert.deepEqual(site.credentials, { username: 'bot', password: 's3cret' });
    assert.deepEqual([...site.secretVars].sort(), ['TOKEN', 'USER_NAME']);
    assert.equal(site.branch, 'main');
    assert.deepEqual(site.env, { WHERE: 'eu-1', LITERAL: '${HOME}' });
    assert.equal(site.steps[0]?.run, 'echo ${HOME}');
  });

  test('durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(2), 2000);
    assert.equal(parseDuration(0.5), 500);
    for (const bad of ['', 'soon', '5', '5 minutes', '-1s', -3, '1d', 'ms', Number.NaN]) assert.equal(parseDuration(bad), undefined, String(bad));
    // Zero is a duration; the config says where it is not allowed.
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration(0), 0);
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(250), '250ms');
  });

  const broken: readonly (readonly [string, string, Record<string, string>?])[] = [
    ['version: 1\nrepos:\n  site:\n    url: x\n    pipeline: [a]\n  site:\n    url: y\n    pipeline: [b]\n', '6:3: map keys must be unique'],
    ['version: 1\nrepos: [\n', '2:9: flow sequence in block collection must be sufficiently indented and end with a ]'],
    [
      'version: 1\nrepos:\n  a:\n    url: x\n    pipeline:\n      - run: echo a: b\n',
      `6:14: nested mappings are not allowed in compact mappings (a value holding ': ' must be quoted: run: "echo a: b")`,
    ],
    ['repos:\n  site: { url: x, pipeline: [a] }\n', "1:1: missing required key 'version'"],
    ['version: 2\nrepos:\n  site: { url: x, pipeline: [a] }\n', '1:10: version must be 1, found 2 (at version)'],
    ['version: 1\n', "1:1: missing required key 'repos'"],
    ['version: 1\nrepos: {}\n', '2:8: needs at least 1 entry (at repos)'],
    ['version: 1\nrepos:\n  site:\n    url: x\n', "3:3: missing required key 'pipeline' (or 'jobs') (at repos.site)"],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    pipeline: [a]\n    jobs:\n      b: { steps: [b] }\n',
      "6:5: a repo has either 'pipeline' or 'jobs', not both (at repos.site.jobs)",
    ],
    ['version: 1\nrepos:\n  site:\n    url: x\n    jobs: {}\n', '5:11: needs at least 1 entry (at repos.site.jobs)'],
    ['version: 1\nrepos:\n  site:\n    url: x\n    jobs:\n      a: { steps: [] }\n', '6:19: needs at least 1 item (at repos.site.jobs.a.steps)'],
    ['version: 1\nrepos:\n  site:\n    url: x\n    jobs:\n      a/b: { steps: [x] }\n', "6:7: invalid job name 'a/b'"],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    jobs:\n      build: { steps: [make] }\n      deploy:\n        needs: [buld]\n        steps: [x]\n',
      "8:17: job 'deploy' needs 'buld', which is not a job of this repo: did you mean 'build'? (at repos.site.jobs.deploy.needs[0])",
    ],
    ['version: 1\nrepos:\n  site:\n    url: x\n    jobs:\n      a: { needs: [a], steps: [x] }\n', "6:20: job 'a' needs itself (at repos.site.jobs.a.needs[0])"],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    jobs:\n      a: { needs: [c], steps: [x] }\n      b: { needs: [a], steps: [x] }\n      c: { needs: [b], steps: [x] }\n      d: { steps: [x] }\n',
      "6:20: jobs 'a' → 'c' → 'b' → 'a' need each other in a cycle: none of them could start (at repos.site.jobs.a.needs[0])",
    ],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    pipeline: [a]\n    retry: { attempts: 0 }\n',
      '6:24: must be at least 1, found 0 (at repos.site.retry.attempts)',
    ],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    pipeline: [a]\n    retry: { attempts: 2, backoff: 0.5s }\n',
      '6:36: must be at least 1s, found 500ms (at repos.site.retry.backoff)',
    ],
    ['version: 1\nrepos:\n  site:\n    url: x\n    pipeline: [a]\n    paths: []\n', '6:12: needs at least 1 item (at repos.site.paths)'],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    pipeline: [a]\n    enabled: no\n',
      '6:14: expected true or false, found a string (no); write true or false (at repos.site.enabled)',
    ],
    ['version: 1\nrepos:\n  site:\n    url: x\n    pipline: [a]\n', "5:5: unknown key 'pipline': did you mean 'pipeline'? (at repos.site.pipline)"],
    ['version: 1\nrepos:\n  site:\n    url: x\n    pipeline: []\n', '5:15: needs at least 1 item (at repos.site.pipeline)'],
    ['version: 1\nrepos:\n  Site:\n    url: x\n    pipeline: [a]\n', "3:3: invalid repo name 'Site'"],
    ['version: 1\nrepos:\n  logs:\n    url: x\n    pipeline: [a]\n', "3:3: the repo name 'logs' is reserved"],
    ['version: 1\nrepos:\n  site:\n    url: x\n    interval: 0.5s\n    pipeline: [a]\n', '5:15: must be at least 1s, found 500ms (at repos.site.interval)'],
    ['version: 1\nrepos:\n  site:\n    url: x\n    interval: 10 minutes\n    pipeline: [a]\n', '5:15: expected a duration like'],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    branch: 0123\n    pipeline: [a]\n',
      '5:13: expected a string, found an integer (0123); quote it to make it a string (at repos.site.branch)',
    ],
    ['version: 1\nrepos:\n  site:\n    url: x\n    branch: -f\n    pipeline: [a]\n', "5:13: invalid branch name '-f': it may not start with '-'"],
    ['version: 1\nrepos:\n  site:\n    url: x\n    branch: a..b\n    pipeline: [a]\n', "5:13: invalid branch name 'a..b': it may not contain '..'"],
    ['version: 1\nrepos:\n  site:\n    url: --upload-pack=touch /tmp/pwned\n    pipeline: [a]\n', "4:10: url may not start with '-'"],
    ['version: 1\nrepos:\n  site:\n    url: "ext::sh -c touch% /tmp/pwned"\n    pipeline: [a]\n', "4:10: the 'ext::' transport is not allowed"],
    ['version: 1\nrepos:\n  site:\n    url: ftp://example.com/x.git\n    pipeline: [a]\n', "4:10: the 'ftp://' transport is not allowed"],
    ['version: 1\nrepos:\n  site:\n    url: https://${TOKEN}@example.com/x.git\n    pipeline: [a]\n', '4:18: environment variable TOKEN is not set'],
    ['version: 1\nrepos:\n  site:\n    url: x\n    pipeline:\n      - name: build\n', "6:9: missing required key 'run' (at repos.site.pipeline[0])"],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    pipeline:\n      - run: make\n        continue_on_error: yes\n',
      '7:28: expected true or false, found a string (yes)',
    ],
    [
      'version: 1\nrepos:\n  site:\n    url: x\n    pipeline:\n      - run: make\n        cwd: ../elsewhere\n',
      "7:14: cwd must be a folder inside the checkout, found '../elsewhere'",
    ],
    [
      'version: 1\nrepos:\n  a:\n    url: x\n    checkout: ./out\n    pipeline: [a]\n  b:\n    url: y\n    checkout: out\n    pipeline: [b]\n',
      "9:15: repos 'a' and 'b' share the checkout",
    ],
    [
      'version: 1\nrepos:\n  a:\n    url: x\n    checkout: ./out\n    pipeline: [a]\n  b:\n    url: y\n    checkout: out/b\n    pipeline: [b]\n',
      "9:15: checkout /srv/app/out/b is inside the checkout of repo 'a'",
    ],
    ['version: 1\nrepos:\n  a:\n    url: x\n    checkout: .\n    pipeline: [a]\n', '5:15: checkout /srv/app contains the config file'],
    [
      'version: 1\nworkdir: /srv/app/data/work\nrepos:\n  a:\n    url: x\n    checkout: data\n    pipeline: [a]\n',
      '6:15: checkout /srv/app/data contains the workdir',
    ],
    [
      'version: 1\nrepos:\n  a:\n    url: x\n    checkout: .gitwatch/logs/a\n    pipeline: [a]\n',
      "5:15: checkout /srv/app/.gitwatch/logs/a is inside gitwatch's own folder",
    ],
    ['version: 1\ndefaults:\n  intervall: 5m\nrepos:\n  a: { url: x, pipeline: [a] }\n', "3:3: unknown key 'intervall': did you mean 'interval'?"],
    ['version: 1\nrepos:\n  a:\n    url: x\n    env: { 1BAD: x }\n    pipeline: [a]\n', "5:12: invalid environment variable name '1BAD'"],
    [
      'version: 1\nrepos:\n  a:\n    url: x\n    env: { A: [1, 2] }\n    pipeline: [a]\n',
      '5:15: expected a string or a number or true or false, found a list (at repos.a.env.A)',
    ],
    ['', '1:1: the file is empty'],
    ['version: 1\nrepos:\n\tsite: {}\n', '3:1: tabs are not allowed as indentation'],
    ['version: 1\nstate: 5\nrepos:\n  a: { url: x, pipeline: [a] }\n', '2:8: expected a string, found an integer (5); quote it to make it a string (at state)'],
    ['version: 1\ndefaults: []\nrepos:\n  a: { url: x, pipeline: [a] }\n', '2:11: expected a map, found a list (at defaults)'],
    ['version: 1\nrepos:\n  a: { url: "", pipeline: [a] }\n', '3:13: must not be empty (at repos.a.url)'],
    // An empty secret would be an HMAC key anyone can sign with.
    ['version: 1\nrepos:\n  a: { url: x, webhook_secret: "", pipeline: [a] }\n', '3:32: must not be empty (at repos.a.webhook_secret)'],
    ['version: 1\ndefaults:\n  git_timeout: 0.2\nrepos:\n  a: { url: x, pipeline: [a] }\n', '3:16: must be at least 1s, found 200ms (at defaults.git_timeout)'],
    ['version: 1\nrepos:\n  a:\n    url: x\n    timeout: -5\n    pipeline: [a]\n', '5:14: expected a duration like'],
    ['version: 1\nrepo:\n  a: { url: x, pipeline: [a] }\n', "2:1: unknown key 'repo': did you mean 'repos'?"],
    [
      'version: 1\nrepos:\n  a:\n    url: x\n    env: { TOKEN: "${MISSING}" }\n    pipeline: [a]\n',
      '5:20: environment variable MISSING is not set (write ${MISSING:-default} to give a default) (at repos.a.env.TOKEN)',
    ],
    ['version: 1\nrepos:\n  a:\n    url: x\n    branch: ${BRANCH}\n    pipeline: [a]\n', '5:13: environment variable BRANCH is not set'],
    ['version: 1\nrepos:\n  a:\n    url: x\n    checkout: out/${UNCLOSED\n    pipeline: [a]\n', "5:19: unclosed '${'"],
    ['version: 1\nrepos:\n  a:\n    url: x\n    env: { A: 1, A: 2 }\n    pipeline: [a]\n', '5:18: map keys must be unique'],
    ['version: 1\nrepos:\n  a:\n    url: x\n    pipeline:\n      - run: make\n        timout: 5m\n', "7:9: unknown key 'timout': did you mean 'timeout'?"],
    ['version: 1\nrepos:\n  a:\n    url: "https://h/x\\u0000"\n    pipeline: [a]\n', '4:10: url contains a control character'],
    ['version: 1\nrepos:\n  a:\n    url: x\n    pipeline: a\n', '5:15: expected a list, found a string (at repos.a.pipeline)'],
  ];

  for (const [text, expected, env] of broken) {
    test(`rejects: ${expected}`, () => {
      const found = errors(text, env ?? {});
      assert.ok(
        found.some((e) => e.startsWith(expected)),
        `expected a problem starting with\n  ${expected}\nfound\n  ${found.join('\n  ')}`,
      );
    });
  }

  test('reports every problem at once', () => {
    const found = errors('version: 1\nrepos:\n  site:\n    url: -x\n    interval: soon\n    pipline: [a]\n    branch: a b\n');
    assert.equal(found.length, 5, found.join('\n'));
  });
});

describe('the state path without a full parse', () => {
  const cases: readonly [string, string | null | undefined][] = [
    ['version: 1\nrepos: {}\n', null],
    ['version: 1\nstate: run/lock.json\nrepos: {}\n', 'run/lock.json'],
    ['# comment\n---\nstate: "quoted.json"   # why\nversion: 1\n', 'quoted.json'],
    ["state: 'single.json'\n", 'single.json'],
    ['state: ${STATE_DIR:-/var/lib/gw}/lock.json\n', '${STATE_DIR:-/var/lib/gw}/lock.json'],
    ['{version: 1, state: flow.json}\n', undefined],
    ['state: &a anchored.json\n', undefined],
    ['state: *a\n', undefined],
    ['state: |\n  block\n', undefined],
    ['state: a.json\nstate: b.json\n', undefined],
    ['state: "esc\\"aped.json"\n', undefined],
    ['state:\n', undefined],
    ['version: 1\nrepos:\n  site:\n    state: not-top-level\n', null],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.equal(scanStateValue(text), expected));
  }

  test('agrees with the full parse whenever it answers', () => {
    const env = { STATE_DIR: '/srv/state' };
    let compared = 0;
    for (const [text] of cases) {
      const repos = 'repos:\n  site:\n    url: /srv/site.git\n    pipeline: ["true"]\n';
      const withVersion = /^version:/m.test(text) ? text : `${text.trimEnd()}\nversion: 1\n`;
      const body = withVersion.includes('repos: {}') ? withVersion.replace('repos: {}\n', repos) : `${withVersion}${repos}`;
      const full = parseConfig(body, { file: 'gitwatch.yaml', absolutePath: '/etc/gw/gitwatch.yaml', env });
      const quick = quickStateValue(body, env);
      if (quick === undefined || !full.ok) continue;
      assert.equal(path.resolve('/etc/gw', quick ?? '.gitwatch.lock.json'), full.value.statePath, body);
      compared++;
    }
    assert.ok(compared >= 5, `compared ${compared}`);
  });
});
