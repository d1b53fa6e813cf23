// The deploy files in examples/deploy: each is checked by the tool its platform uses where that tool can
// be installed here, and read for the fields gitwatch relies on; the CI jobs' scripts are run for real.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { BIN, runCli } from './helpers/cli.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { tempDir, testEnv } from './helpers/temp.js';
import pkg from '../package.json' with { type: 'json' };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(ROOT, 'examples/deploy');
const run = promisify(execFile);

/** Set by .ci/run, which installs systemd: there a missing systemd-analyze fails the test instead of skipping it. */
const REQUIRE_SYSTEMD = 'GITWATCH_TEST_REQUIRE_SYSTEMD';
const TARBALL = `${pkg.name}-${pkg.version}.tgz`;

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** `[Section]` → key → every value given for it, in order (systemd allows repeats). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1] !== undefined) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `not a key=value line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/**
 * A deploy config is valid, and with STATE_DIRECTORY set (as systemd, the image and the StatefulSet do) it
 * reads its state from there: `status` shows the commit of a lock file placed in that folder.
 */
async function checkDeployConfig(t: TestContext, text: string): Promise<void> {
  const dir = await tempDir(t, 'gitwatch-deploy-');
  const file = path.join(dir, 'gitwatch.yaml');
  await writeFile(file, text);
  const stateDir = path.join(dir, 'state');
  const env = testEnv(dir, { STATE_DIRECTORY: stateDir });
  const valid = await runCli(['validate', '--json', '-c', file], { cwd: dir, env });
  assert.equal(valid.code, 0, valid.stdout + valid.stderr);
  const names = Object.keys((parse(text) as { repos: Record<string, unknown> }).repos);
  const commit = 'a'.repeat(40);
  await mkdir(stateDir);
  await writeFile(
    path.join(stateDir, '.gitwatch.lock.json'),
    `${JSON.stringify({ version: 1, repos: Object.fromEntries(names.map((n) => [n, { commit }])) })}\n`,
  );
  const status = await runCli(['status', '--json', '-c', file], { cwd: dir, env });
  assert.equal(status.code, 0, status.stderr);
  const repos = (JSON.parse(status.stdout) as { repos: { name: string; commit: string | null }[] }).repos;
  assert.deepEqual(
    repos.map((r) => [r.name, r.commit]),
    names.map((n) => [n, commit]),
    'the state is read from STATE_DIRECTORY',
  );
}

describe('systemd unit', () => {
  const unitPath = path.join(DEPLOY, 'systemd/gitwatch.service');

  test('restarts on failure but not on a config error, reloads on SIGHUP, and runs hardened as its own user', async (t) => {
    const unit = parseUnit(await readFile(unitPath, 'utf8'));
    const service = unit.get('Service');
    assert.ok(service);
    const one = (key: string): string | undefined => service.get(key)?.at(-1);
    assert.ok(['exec', 'notify'].includes(one('Type') ?? ''));
    assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(one('KillMode'), 'mixed');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('RestartPreventExitStatus'), '2');
    assert.ok(one('User') !== undefined && !['root', '0'].includes(one('User') ?? ''));
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('StateDirectory'), 'gitwatch');
    // gitwatch's grace for a step is 10 s: systemd must wait longer before its own SIGKILL.
    assert.ok(Number.parseInt(one('TimeoutStopSec') ?? '0', 10) > 10);
    const execStart = (one('ExecStart') ?? '').split(' ');
    assert.deepEqual(execStart.slice(1, 4), ['run', '-c', '/etc/gitwatch/gitwatch.yaml']);
    // The sysusers file creates the user the unit names.
    const sysusers = await readFile(path.join(DEPLOY, 'systemd/gitwatch.sysusers'), 'utf8');
    assert.match(sysusers, new RegExp(`^u ${one('User') ?? ''} `, 'm'));

    // The config it runs keeps its state in the state directory, the only place it may write.
    await checkDeployConfig(t, await readFile(path.join(DEPLOY, 'gitwatch.yaml'), 'utf8'));
    const validated = await runCli(['validate', '--json', '-c', path.join(DEPLOY, 'gitwatch.yaml')], { cwd: ROOT, env: testEnv(ROOT) });
    assert.equal(validated.code, 0, `${validated.stdout}${validated.stderr}: the example is valid without STATE_DIRECTORY too`);
  });

  test('systemd-analyze verify accepts it, and rates its exposure OK or better', async (t) => {
    if (!onPath('systemd-analyze')) {
      const reason = 'needs systemd-analyze (Debian package systemd)';
      if (process.env[REQUIRE_SYSTEMD] === '1') throw new Error(`${REQUIRE_SYSTEMD}=1 but the unit test ${reason}`);
      t.skip(reason);
      return;
    }
    const dir = await tempDir(t, 'gitwatch-unit-');
    // verify checks that ExecStart's program exists: point it at this clone's gitwatch instead of /usr/local/bin.
    const text = (await readFile(unitPath, 'utf8')).replace(/^ExecStart=\S+/m, `ExecStart=${BIN}`);
    const copy = path.join(dir, 'gitwatch.service');
    await writeFile(copy, text);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'no warnings either');
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', copy], { encoding: 'utf8' });
    const level = /Overall exposure level for gitwatch\.service: ([\d.]+) (\w+)/.exec(security.stdout);
    assert.ok(level?.[1] !== undefined, security.stdout + security.stderr);
    assert.ok(Number(level[1]) <= 4, `exposure ${level[1]} ${level[2]}`);
  });
});

describe('Dockerfile', () => {
  const file = path.join(DEPLOY, 'docker/Dockerfile');

  test('lints clean, installs the packed tarball on a small Node base with git, and runs as a user under an init', async (t) => {
    const text = await readFile(file, 'utf8');
    assert.deepEqual(
      lintDockerfile(text).map((d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`),
      [],
    );
    const dockerfile = DockerfileParser.parse(text);
    const froms = dockerfile.getFROMs();
    assert.ok(froms.length >= 1);
    for (const from of froms) assert.match(from.getImage() ?? '', /^node:\d+-[a-z]+-slim$/);
    // Only the last stage is the image.
    const finalStart = froms.at(-1)?.getRange().start.line ?? 0;
    const final = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= finalStart);
    const args = (keyword: string): string[] => final.filter((i: Instruction) => i.getKeyword() === keyword).map((i) => i.getArgumentsContent() ?? '');
    const runs = args('RUN').join('\n');
    for (const name of ['git', 'openssh-client', 'tini']) assert.match(runs, new RegExp(`apt-get install[^\\n]*\\s${name}(\\s|$)`), name);
    assert.ok(runs.includes(`npm install --global --no-audit --no-fund /tmp/pack/${pkg.name}-*.tgz`));
    const user = args('USER').at(-1);
    assert.ok(user !== undefined && !['root', '0'].includes(user), 'runs as a user other than root');
    const entrypoint = JSON.parse(args('ENTRYPOINT').at(-1) ?? '[]') as string[];
    assert.deepEqual(entrypoint, ['/usr/bin/tini', '--', 'gitwatch'], 'tini is PID 1 and forwards signals to gitwatch');
    const cmd = JSON.parse(args('CMD').at(-1) ?? '[]') as string[];
    const listen = cmd[cmd.indexOf('--listen') + 1] ?? '';
    assert.equal(cmd[0], 'run');
    const port = listen.split(':').at(-1) ?? '';
    assert.ok(/^\d+$/.test(port), listen);
    assert.ok(args('HEALTHCHECK').at(-1)?.includes(`:${port}/healthz`), 'the health check asks the port gitwatch listens on');
    assert.match(args('ENV').join(' '), /STATE_DIRECTORY=\/var\/lib\/gitwatch/);

    if (onPath('hadolint')) {
      const lint = spawnSync('hadolint', [file], { encoding: 'utf8' });
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    } else t.diagnostic('hadolint is not on PATH (no Debian or npm package ships it): linted with dockerfile-utils only');
  });
});

describe('Kubernetes manifests', () => {
  test('validate against the Kubernetes schemas, run one replica with the state on a volume and the config from a ConfigMap', async (t) => {
    const docs = parseAllDocuments(await readFile(path.join(DEPLOY, 'kubernetes/gitwatch.yaml'), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, []);
      return d.toJS() as { kind: string };
    });
    const byKind = new Map(docs.map((d) => [d.kind, d]));
    assert.deepEqual([...byKind.keys()].sort(), ['ConfigMap', 'Service', 'StatefulSet']);
    const configMap = new ConfigMap(byKind.get('ConfigMap') as ConstructorParameters<typeof ConfigMap>[0]);
    const service = new Service(byKind.get('Service') as ConstructorParameters<typeof Service>[0]);
    const set = new StatefulSet(byKind.get('StatefulSet') as ConstructorParameters<typeof StatefulSet>[0]);
    // Each throws with the path of the first field that breaks the Kubernetes OpenAPI schema.
    configMap.validate();
    service.validate();
    set.validate();

    assert.equal(set.spec?.replicas, 1, 'the state file has a single writer');
    assert.equal(set.spec?.serviceName, service.metadata?.name);
    const pod = set.spec?.template.spec;
    assert.ok(pod);
    assert.deepEqual(service.spec?.selector, set.spec?.template.metadata?.labels);
    assert.equal(pod.containers.length, 1);
    const [container] = pod.containers;
    assert.ok(container);
    const args = container.args ?? [];
    assert.deepEqual(args.slice(0, 2), ['run', '-c']);
    const configFile = args[2] ?? '';
    const mounts = new Map((container.volumeMounts ?? []).map((m) => [m.name, m]));
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));

    // The whole ConfigMap as a folder (a subPath mount is never updated, so hot reload would not see edits).
    const configVolume = [...volumes.values()].find((v) => v.configMap?.name === configMap.metadata?.name);
    assert.ok(configVolume);
    const configMount = mounts.get(configVolume.name);
    assert.equal(configMount?.mountPath, path.posix.dirname(configFile));
    assert.equal(configMount.subPath, undefined);
    const configText = configMap.data?.[path.posix.basename(configFile)];
    assert.ok(configText !== undefined, `the ConfigMap holds ${configFile}`);

    // The state and the workdir are on the claim, through STATE_DIRECTORY.
    const stateDir = (container.env ?? []).find((e) => e.name === 'STATE_DIRECTORY')?.value;
    const claim = set.spec?.volumeClaimTemplates?.[0];
    assert.ok(claim?.metadata?.name !== undefined && stateDir !== undefined);
    assert.equal(mounts.get(claim.metadata.name)?.mountPath, stateDir);
    assert.deepEqual(claim.spec?.accessModes, ['ReadWriteOnce']);
    const config = parse(configText) as { state: string; workdir: string };
    assert.ok(config.state.startsWith('${STATE_DIRECTORY}/') && config.workdir.startsWith('${STATE_DIRECTORY}/'));
    await checkDeployConfig(t, configText);

    // Ready once every repo has been checked: /healthz on the port gitwatch listens on.
    const port = Number((args[args.indexOf('--listen') + 1] ?? '').split(':').at(-1));
    const probe = container.readinessProbe?.httpGet;
    assert.equal(probe?.path, '/healthz');
    const named = (container.ports ?? []).find((p) => p.name === probe.port);
    assert.equal(named?.containerPort ?? probe.port, port);
    // The image's user (see the Dockerfile), never root.
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    const dockerUser = /--uid (\d+)/.exec(await readFile(path.join(DEPLOY, 'docker/Dockerfile'), 'utf8'))?.[1];
    assert.equal(String(pod.securityContext?.runAsUser), dockerUser);
    assert.ok((pod.terminationGracePeriodSeconds ?? 30) > 10, "longer than gitwatch's 10 s grace for a step");
  });
});

/** A repo with a gitwatch.yaml and the packed gitwatch in tools/, pushed to a bare origin, as the CI jobs expect it. */
async function opsRepo(
  t: TestContext,
): Promise<{ dir: string; origin: string; site: TestRepo; env: Record<string, string>; clone: (name: string) => Promise<string> }> {
  const dir = await tempDir(t, 'gitwatch-ci-');
  const env = testEnv(dir);
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];
  const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env });
  const site = await TestRepo.create(path.join(dir, 'site'));
  await site.commit({ 'index.html': 'v1\n' });
  const broken = await TestRepo.create(path.join(dir, 'broken'));

  const origin = path.join(dir, 'origin.git');
  await git(dir, 'init', '--quiet', '--bare', '--initial-branch', 'main', origin);
  // GitLab takes push options (ci.skip); a bare repo must be told to.
  await git(origin, 'config', 'receive.advertisePushOptions', 'true');
  const seed = path.join(dir, 'seed');
  await git(dir, 'clone', '--quiet', origin, seed);
  await mkdir(path.join(seed, 'tools'));
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', path.join(seed, 'tools')], { cwd: ROOT, env });
  await writeFile(path.join(seed, '.gitignore'), '.gitwatch/\n');
  await writeFile(
    path.join(seed, 'gitwatch.yaml'),
    `version: 1\nrepos:\n  site:\n    url: ${site.url}\n    pipeline: [cat index.html]\n  broken:\n    url: ${broken.url}\n    pipeline: ['exit 3']\n`,
  );
  await git(seed, 'add', '.');
  await git(seed, 'commit', '--quiet', '-m', 'gitwatch config');
  await git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  const clone = async (name: string): Promise<string> => {
    const to = path.join(dir, name);
    await git(dir, 'clone', '--quiet', '--depth', '1', `file://${origin}`, to);
    return to;
  };
  return { dir, origin, site, env, clone };
}

/** Runs a job's shell script; its exit code and output. */
function sh(script: string, cwd: string, env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

async function originLock(origin: string, env: Record<string, string>): Promise<{ repos: Record<string, { commit?: string; lastRun?: { status: string } }> }> {
  const { stdout } = await run('git', ['--git-dir', origin, 'show', 'main:.gitwatch.lock.json'], { env });
  return JSON.parse(stdout) as { repos: Record<string, { commit?: string; lastRun?: { status: string } }> };
}

async function originLog(origin: string, env: Record<string, string>): Promise<string[]> {
  const { stdout } = await run('git', ['--git-dir', origin, 'log', '--format=%s', 'main'], { env });
  return stdout.trim().split('\n');
}

/** PATH and npm prefix for a CI job: `npm install --global` lands in the job's own prefix. */
function jobEnv(base: Record<string, string>, prefix: string, extra: Record<string, string>): Record<string, string> {
  const PATH = `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${base['PATH'] ?? ''}`;
  return { ...base, PATH, npm_config_prefix: prefix, npm_config_update_notifier: 'false', ...extra };
}

describe('CI jobs', () => {
  test('GitHub Actions: on a schedule, one at a time, runs once and pushes the lock, after a failed pipeline too', async (t) => {
    interface Step {
      uses?: string;
      run?: string;
      if?: string;
    }
    const workflow = parse(await readFile(path.join(DEPLOY, 'github-actions/gitwatch.yml'), 'utf8')) as {
      on: { schedule: { cron: string }[] };
      concurrency: { group: string; 'cancel-in-progress': boolean };
      permissions: Record<string, string>;
      jobs: Record<string, { 'runs-on': string; steps: Step[] }>;
    };
    assert.match(workflow.on.schedule[0]?.cron ?? '', /^\S+ \S+ \S+ \S+ \S+$/);
    assert.equal(workflow.concurrency['cancel-in-progress'], false);
    assert.equal(workflow.permissions['contents'], 'write');
    const jobs = Object.values(workflow.jobs);
    assert.equal(jobs.length, 1);
    const steps = jobs[0]?.steps ?? [];
    assert.equal(steps[0]?.uses?.split('@')[0], 'actions/checkout');
    assert.ok(steps.some((s) => s.run?.includes(`./tools/${TARBALL}`)));

    const ops = await opsRepo(t);
    // A runner: each run step in a fresh bash; after a failure only steps marked to run anyway do.
    const runJob = async (name: string): Promise<boolean> => {
      const checkout = await ops.clone(name);
      const env = jobEnv(ops.env, path.join(ops.dir, `${name}-prefix`), { GITHUB_REF_NAME: 'main', CI: 'true' });
      let failed = false;
      for (const step of steps) {
        if (step.run === undefined) continue;
        if (failed && !/^\$\{\{\s*(!cancelled\(\)|always\(\))\s*\}\}$/.test(step.if ?? '')) continue;
        const result = sh(step.run, checkout, env);
        t.diagnostic(`${name}: ${step.run.split('\n')[0] ?? ''} → ${result.status}`);
        if (result.status !== 0) failed = true;
      }
      return !failed;
    };

    assert.equal(await runJob('run1'), false, 'a failed pipeline turns the workflow red');
    let lock = await originLock(ops.origin, ops.env);
    assert.equal(lock.repos['site']?.commit, ops.site.head());
    assert.equal(lock.repos['broken']?.lastRun?.status, 'failed', 'the failed attempt is committed, so it does not run again');
    assert.deepEqual(await originLog(ops.origin, ops.env), ['gitwatch: record processed commits', 'gitwatch config']);

    const next = await ops.site.commit({ 'index.html': 'v2\n' });
    await runJob('run2');
    lock = await originLock(ops.origin, ops.env);
    assert.equal(lock.repos['site']?.commit, next);
    assert.equal((await originLog(ops.origin, ops.env)).length, 3);
  });

  test('GitLab CI: from a schedule, in a resource group, runs once and pushes the lock with ci.skip', async (t) => {
    const file = parse(await readFile(path.join(DEPLOY, 'gitlab-ci/gitwatch.gitlab-ci.yml'), 'utf8')) as Record<
      string,
      { image: string; rules: { if: string }[]; resource_group: string; before_script: string[]; script: string[] }
    >;
    const job = file['gitwatch'];
    assert.ok(job);
    assert.ok(job.rules.some((r) => r.if === '$CI_PIPELINE_SOURCE == "schedule"'));
    assert.equal(typeof job.resource_group, 'string');
    assert.match(job.image, /^node:\d+/);

    const ops = await opsRepo(t);
    const checkout = await ops.clone('job');
    // GitLab checks out the commit, detached.
    await run('git', ['checkout', '--quiet', '--detach'], { cwd: checkout, env: ops.env });
    const pushUrl = 'https://gitlab-ci-token:secret-token@gitlab.test/ops/deploy.git';
    const env = jobEnv(ops.env, path.join(ops.dir, 'prefix'), {
      CI: 'true',
      CI_SERVER_HOST: 'gitlab.test',
      CI_PROJECT_PATH: 'ops/deploy',
      CI_COMMIT_BRANCH: 'main',
      CI_PIPELINE_SOURCE: 'schedule',
      GITWATCH_PUSH_TOKEN: 'secret-token',
      // The push URL the job builds, sent to the local origin instead.
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `url.file://${ops.origin}.insteadOf`,
      GIT_CONFIG_VALUE_0: pushUrl,
    });
    // GitLab runs before_script and script as one shell session that stops at the first failing line.
    const result = sh([...job.before_script, ...job.script].join('\n'), checkout, env);
    assert.equal(result.status, 1, `the job fails with gitwatch once's exit code\n${result.output}`);
    assert.doesNotMatch(result.output, /secret-token/);
    const lock = await originLock(ops.origin, ops.env);
    assert.equal(lock.repos['site']?.commit, ops.site.head());
    assert.equal(lock.repos['broken']?.lastRun?.status, 'failed');
    assert.equal((await originLog(ops.origin, ops.env))[0], 'gitwatch: record processed commits');
  });
});

describe('Kubernetes manifests, sharded', () => {
  test('each pod passes its ordinal and the replica count as its shard, and keeps its own volume; the shards split the repos', async (t) => {
    const docs = parseAllDocuments(await readFile(path.join(DEPLOY, 'kubernetes/sharded.yaml'), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, []);
      return d.toJS() as { kind: string };
    });
    const byKind = new Map(docs.map((d) => [d.kind, d]));
    assert.deepEqual([...byKind.keys()].sort(), ['ConfigMap', 'Service', 'StatefulSet']);
    const configMap = new ConfigMap(byKind.get('ConfigMap') as ConstructorParameters<typeof ConfigMap>[0]);
    const set = new StatefulSet(byKind.get('StatefulSet') as ConstructorParameters<typeof StatefulSet>[0]);
    configMap.validate();
    new Service(byKind.get('Service') as ConstructorParameters<typeof Service>[0]).validate();
    set.validate();

    const replicas = set.spec?.replicas ?? 1;
    assert.ok(replicas > 1, 'more than one shard');
    const container = set.spec?.template.spec?.containers[0];
    assert.ok(container);
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', 'the ordinal comes from the pod name (downward API)');
    assert.equal(env.get('SHARDS')?.value, String(replicas), 'N is the replica count');
    // Each pod's own claim holds its state and workdir.
    const claim = set.spec?.volumeClaimTemplates?.[0]?.metadata?.name;
    const stateDir = env.get('STATE_DIRECTORY')?.value;
    assert.ok(claim !== undefined && stateDir !== undefined);
    assert.equal((container.volumeMounts ?? []).find((m) => m.name === claim)?.mountPath, stateDir);
    const configText = configMap.data?.['gitwatch.yaml'] ?? '';
    const names = Object.keys((parse(configText) as { repos: Record<string, unknown> }).repos);
    assert.match(configText, /state: \$\{STATE_DIRECTORY\}\//);

    // The container's command as the kubelet runs it (tini left out), with a stand-in gitwatch that says
    // which arguments it got; then the real gitwatch with those arguments lists that pod's repos.
    const dir = await tempDir(t, 'gitwatch-shards-');
    const shim = path.join(dir, 'bin');
    await mkdir(shim);
    await writeFile(path.join(shim, 'gitwatch'), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
    await writeFile(path.join(dir, 'gitwatch.yaml'), configText);
    const command = [...(container.command ?? []), ...(container.args ?? [])];
    assert.deepEqual(command.slice(0, 2), ['/usr/bin/tini', '--']);
    const seen = new Map<string, string[]>();
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const podEnv = testEnv(dir, { PATH: `${shim}:${process.env['PATH'] ?? ''}`, POD_NAME: `${set.metadata?.name}-${ordinal}`, SHARDS: String(replicas) });
      const { stdout } = await run(command[2] ?? '', command.slice(3), { env: podEnv });
      const args = stdout.trim().split('\n');
      assert.equal(args[0], 'run');
      const shard = args[args.indexOf('--shard') + 1];
      assert.equal(shard, `${ordinal}/${replicas}`);
      const status = await runCli(['status', '--json', '--shard', shard ?? '', '-c', path.join(dir, 'gitwatch.yaml')], {
        cwd: dir,
        env: testEnv(dir, { STATE_DIRECTORY: path.join(dir, `pod-${ordinal}`) }),
      });
      assert.equal(status.code, 0, status.stderr);
      const report = JSON.parse(status.stdout) as { shard: string; repos: { name: string }[] };
      assert.equal(report.shard, shard);
      seen.set(
        String(ordinal),
        report.repos.map((r) => r.name),
      );
    }
    assert.deepEqual([...seen.values()].flat().sort(), [...names].sort(), 'every repo on exactly one pod');
  });
});
