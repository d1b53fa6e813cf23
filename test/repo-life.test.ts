// Where operator actions meet a repo's life, through the real daemon: a pause while a pipeline runs, a
// trigger for a target the daemon does not follow, health with disabled and paused repos, and a remote
// that is fixed while gitwatch waits.

import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { listeningUrl } from './helpers/listen.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** A step that waits until the test creates `file`: the test decides when it ends. */
const gate = (dir: string, name: string): string => `while [ ! -e '${path.join(dir, name)}' ]; do sleep 0.05; done`;

interface StatusRepo {
  name: string;
  phase: string | null;
  step: string | null;
  paused: boolean;
  lastRun: { status: string; commit: string } | null;
}

async function repos(project: Project): Promise<StatusRepo[]> {
  const result = await project.cli('status', '--json');
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { repos: StatusRepo[] }).repos;
}

async function repo(project: Project, name: string): Promise<StatusRepo | undefined> {
  return (await repos(project)).find((r) => r.name === name);
}

async function twoRepos(t: TestContext) {
  const root = await tempDir(t);
  const site = await TestRepo.create(path.join(root, 'site'));
  const api = await TestRepo.create(path.join(root, 'api'));
  const repos = {
    site: { url: site.url, interval: '1h', pipeline: [RECORD_STEP, { name: 'deploy', run: gate(root, 'release-site') }] },
    api: { url: api.url, interval: '1h', pipeline: [RECORD_STEP, { name: 'deploy', run: gate(root, 'release-api') }] },
  };
  const project = await makeProject(t, { version: 1, repos: { site: repos.site } });
  const release = (name: string): Promise<void> => writeFile(path.join(root, `release-${name}`), '');
  const hold = (name: string): Promise<void> => rm(path.join(root, `release-${name}`), { force: true });
  /** api joins by a reload: its first run then waits behind whatever runs. */
  const addApi = (): Promise<void> => project.writeConfig({ version: 1, repos });
  return { root, site, api, project, release, hold, addApi };
}

describe('a repo’s life through the daemon', () => {
  test('a pause while the pipeline runs lets it finish, keeps the daemon and the other repo running, and holds later commits', async (t) => {
    const { site, api, project, release, hold, addApi } = await twoRepos(t);
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await repo(project, 'site'))?.step === 'deploy', 'site deploying');
    // api joins while site runs: its first run waits behind site's (one pipeline at a time).
    await addApi();
    await daemon.until(async () => (await repo(project, 'api'))?.phase === 'queued', 'api queued behind site');
    const paused = await project.cli('pause', 'site');
    assert.equal(paused.code, 0, paused.stderr);
    await release('site');
    await daemon.until(async () => (await repo(project, 'site'))?.lastRun?.status === 'succeeded', 'site finished its run');
    await daemon.until(async () => (await repo(project, 'site'))?.phase === 'paused', 'site paused');
    await daemon.until(async () => (await repo(project, 'api'))?.step === 'deploy', 'api deploying');
    await release('api');
    await daemon.until(async () => (await project.state()).repos['api']?.commit === api.head(), 'api finished');
    assert.equal(daemon.child.exitCode, null, `the daemon ended:\n${daemon.stderr()}`);

    // A new commit on the paused repo is not run; a trigger while paused runs it, and a pause in that run holds too.
    await hold('site');
    const sha = await site.commit();
    const waiting = project.cli('trigger', '--wait', 'site');
    await daemon.until(async () => (await repo(project, 'site'))?.step === 'deploy', 'the triggered run');
    assert.equal((await project.cli('pause', 'site')).code, 0);
    await release('site');
    const result = await waiting;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^site succeeded$/m);
    await daemon.until(async () => (await repo(project, 'site'))?.phase === 'paused', 'paused again after the triggered run');
    assert.equal((await project.state()).repos['site']?.commit, sha);
    assert.doesNotMatch(daemon.stderr(), /internal error|no transition/);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('trigger and trigger --wait for a branch-glob target the daemon does not follow exit 2', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'r'));
    remote.git('checkout', '-q', '-b', 'release/1.0');
    await remote.commit();
    const project = await makeProject(t, { version: 1, repos: { r: { url: remote.url, branch: 'release/*', interval: '1h', pipeline: ['true'] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await repo(project, 'r@release/1.0'))?.lastRun?.status === 'succeeded', 'the target ran');
    for (const args of [
      ['trigger', '--wait', 'r@release/none'],
      ['trigger', 'r@release/none'],
      ['pause', 'r@release/none'],
    ]) {
      const result = await project.cli(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /unknown repo 'r@release\/none'/);
    }
    const known = await project.cli('trigger', '--wait', 'r@release/1.0');
    assert.equal(known.code, 0, known.stderr);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('/healthz is 200 once every enabled, unpaused repo was checked; disabled and paused repos do not hold it back', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: { url: remote.url, interval: '1h', pipeline: ['true'] },
        off: { url: remote.url, interval: '1h', enabled: false, pipeline: ['true'] },
        held: { url: remote.url, interval: '1h', pipeline: ['true'] },
      },
    });
    assert.equal((await project.cli('pause', 'held')).code, 0);
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const url = await listeningUrl(daemon);
    await daemon.until(async () => (await fetch(`${url}/healthz`)).status === 200, '/healthz 200');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('a remote created after gitwatch started is noticed within the doubling wait, not after 5 minutes', async (t) => {
    const root = await tempDir(t);
    const later = path.join(root, 'later');
    const project = await makeProject(t, { version: 1, repos: { later: { url: later, interval: '1s', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(() => /later.*repository not found/.test(daemon.stdout() + daemon.stderr()), 'the first failed check');
    await new Promise((r) => setTimeout(r, 2500));
    // A cause that repeats is said once.
    assert.equal((daemon.stdout() + daemon.stderr()).match(/repository not found/g)?.length, 1, daemon.stdout() + daemon.stderr());
    await TestRepo.create(later);
    // Failed checks so far: at 0 s, 1 s and 3 s (waits of 1 s, 2 s, 4 s): the next is at most 8 s away.
    await daemon.until(async () => (await project.record()).length === 1, 'the run of the new repository', 20_000);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('a followed branch deleted and pushed again runs again; SIGHUP checks a failing repo at once', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    remote.git('checkout', '-q', '-b', 'deploy');
    await remote.commit();
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, branch: 'deploy', interval: '1m', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    remote.git('checkout', '-q', 'main');
    remote.git('branch', '-q', '-D', 'deploy');
    // A trigger checks at once; the branch is missing, so it stays pending until the remote has it again.
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    await daemon.until(
      () => /site.*branch/i.test(daemon.stdout() + daemon.stderr()) && /missing|not found|no branch/.test(daemon.stdout() + daemon.stderr()),
      'the missing branch',
    );
    remote.git('checkout', '-q', '-b', 'deploy');
    const sha = await remote.commit();
    // The interval is a minute: only a check at once on reload sees the branch back within the wait below.
    daemon.child.kill('SIGHUP');
    await daemon.until(async () => (await project.record()).some((line) => line.includes(sha)), 'the run of the branch pushed again');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
