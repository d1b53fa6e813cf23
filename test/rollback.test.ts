// Rolling back and pinning through the real CLI, with real repositories: `gitwatch rollback` with and without
// a daemon, `--to` inside and outside the followed branch, a rollback whose run fails, a pin that lasts
// across restarts and ends when the config moves the repo, `unpin`, the config's `commit:`, and the lock's
// `history` (20 runs at most; a lock without it reads as before).

import assert from 'node:assert/strict';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startDaemon, startGitwatch } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { listeningUrl, push, send } from './helpers/listen.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

interface Entry {
  commit?: string;
  lastRun?: { commit: string; status: string };
  history?: { commit: string; status: string; startedAt: string; finishedAt: string }[];
  pinned?: { commit: string; reason: string; at: string };
  [key: string]: unknown;
}

async function entry(project: Project, name = 'site'): Promise<Entry | undefined> {
  return (JSON.parse(await readFile(project.statePath, 'utf8')) as { repos: Record<string, Entry> }).repos[name];
}

/** Commits the step ran for, in order. */
async function ran(project: Project): Promise<string[]> {
  return (await project.record()).map((line) => line.split(' ')[1] ?? '');
}

/** A step that fails in a commit that holds a file named `bad`. */
const FAILS_ON_BAD = 'test ! -e bad';

async function siteProject(t: Parameters<typeof tempDir>[0], extra: Record<string, unknown> = {}): Promise<{ repo: TestRepo; project: Project }> {
  const root = await tempDir(t);
  const repo = await TestRepo.create(path.join(root, 'site'));
  const project = await makeProject(t, {
    version: 1,
    repos: { site: { url: repo.url, branch: 'main', interval: '1h', pipeline: [RECORD_STEP, FAILS_ON_BAD], ...extra } },
  });
  return { repo, project };
}

describe('gitwatch rollback without a daemon', () => {
  test('runs the newest earlier good commit, pins it, and new commits are shown but not run until unpin', async (t) => {
    const { repo, project } = await siteProject(t);
    const a = repo.head();
    assert.equal((await project.cli('once')).code, 0);
    const b = await repo.commit();
    assert.equal((await project.cli('once')).code, 0);
    // A failed run is no rollback target: the newest earlier success is b.
    const bad = await repo.commit({ bad: 'x' });
    assert.equal((await project.cli('once')).code, 1);
    repo.git('rm', '--quiet', 'bad');
    const c = await repo.commit();
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual(await ran(project), [a, b, bad, c]);

    const back = await project.cli('rollback', 'site');
    assert.equal(back.code, 0, back.stdout + back.stderr);
    const lines = await project.record();
    assert.equal(lines.at(-1), `site ${b} prev=${c} step=${RECORD_STEP}`);
    let now = await entry(project);
    assert.equal(now?.commit, b, 'the lock moves back to the rolled-back commit on purpose');
    assert.equal(now?.pinned?.commit, b);
    assert.equal(now?.pinned?.reason, 'rollback');
    assert.deepEqual(
      now?.history?.map((h) => [h.commit, h.status]),
      [
        [b, 'succeeded'],
        [c, 'succeeded'],
        [bad, 'failed'],
        [b, 'succeeded'],
        [a, 'succeeded'],
      ],
    );

    // While pinned, a new head is seen and said, never run.
    const d = await repo.commit();
    const once = await project.cli('once');
    assert.equal(once.code, 0, once.stdout + once.stderr);
    assert.match(once.stdout, new RegExp(`pinned at ${b.slice(0, 12)}; head is ${d.slice(0, 12)}`));
    assert.equal((await ran(project)).length, 5);
    const plan = await project.cli('plan');
    assert.equal(plan.code, 0);
    assert.match(plan.stdout, new RegExp(`site\\s+pinned\\s+${d.slice(0, 12)}\\s+pinned at ${b.slice(0, 12)}; head is ${d.slice(0, 12)}`));
    const status = await project.cli('status');
    assert.match(status.stdout, new RegExp(`pinned at ${b.slice(0, 12)}`));
    const json = JSON.parse((await project.cli('status', '--json')).stdout) as { repos: { pinned: { commit: string; reason: string } | null }[] };
    assert.deepEqual(
      json.repos.map((r) => r.pinned && [r.pinned.commit, r.pinned.reason]),
      [[b, 'rollback']],
    );
    // A trigger of a pinned repo runs the pinned commit again, not the head.
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    assert.equal((await ran(project)).at(-1), b);

    // A second rollback goes further back: the newest good commit other than the lock's (b) is c.
    assert.equal((await project.cli('rollback', 'site')).code, 0);
    assert.equal((await ran(project)).at(-1), c);

    const unpin = await project.cli('unpin', 'site');
    assert.equal(unpin.code, 0, unpin.stderr);
    now = await entry(project);
    assert.equal(now?.pinned, undefined);
    assert.equal((await project.cli('once')).code, 0);
    assert.equal((await ran(project)).at(-1), d);
  });

  test('--to a commit of the followed branch runs it; one outside it, or no commit id, exits 2 and changes nothing', async (t) => {
    const { repo, project } = await siteProject(t);
    const a = repo.head();
    await repo.commit();
    assert.equal((await project.cli('once')).code, 0);
    repo.git('checkout', '--quiet', '-b', 'elsewhere');
    const outside = await repo.commit();
    repo.git('checkout', '--quiet', 'main');
    const before = await readFile(project.statePath, 'utf8');

    const refused = await project.cli('rollback', '--to', outside, 'site');
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`commit ${outside.slice(0, 12)} is not in the history of branch main`));
    const short = await project.cli('rollback', '--to', a.slice(0, 8), 'site');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /full commit id/);
    const unknown = await project.cli('rollback', 'nope');
    assert.equal(unknown.code, 2);
    assert.equal(await readFile(project.statePath, 'utf8'), before, 'a refused rollback writes nothing');

    const to = await project.cli('rollback', '--to', a, 'site');
    assert.equal(to.code, 0, to.stdout + to.stderr);
    assert.equal((await entry(project))?.pinned?.commit, a);
    assert.equal((await ran(project)).at(-1), a);
  });

  test('a rollback whose run fails exits 1 and leaves the repo pinned at the failed commit, recorded as failed', async (t) => {
    const { repo, project } = await siteProject(t);
    const bad = await repo.commit({ bad: 'x' });
    repo.git('rm', '--quiet', 'bad');
    const good = await repo.commit();
    assert.equal((await project.cli('once')).code, 0);
    const back = await project.cli('rollback', '--to', bad, 'site');
    assert.equal(back.code, 1, back.stdout + back.stderr);
    const now = await entry(project);
    assert.equal(now?.pinned?.commit, bad);
    assert.equal(now?.lastRun?.commit, bad);
    assert.equal(now?.lastRun?.status, 'failed');
    assert.equal(now?.commit, good, "the lock's commit stays the last one that succeeded");
    // It waits for the operator: nothing runs on its own, and once stays red.
    await repo.commit();
    const once = await project.cli('once');
    assert.equal(once.code, 1);
    assert.equal((await ran(project)).length, 2);
  });

  test('a repo with nothing earlier to go back to exits 2', async (t) => {
    const { project } = await siteProject(t);
    assert.equal((await project.cli('once')).code, 0);
    const back = await project.cli('rollback', 'site');
    assert.equal(back.code, 2);
    assert.match(back.stderr, /no earlier successful run/);
    assert.equal((await entry(project))?.pinned, undefined);
  });
});

describe('a rollback killed with -9', () => {
  test('leaves a valid lock with the pin recorded, and the pinned commit runs on the next cycle', async (t) => {
    const { repo, project } = await siteProject(t);
    const block = path.join(project.dir, 'block');
    const started = path.join(project.dir, 'started');
    await project.writeConfig({
      version: 1,
      repos: {
        site: { url: repo.url, branch: 'main', interval: '1h', pipeline: [RECORD_STEP, `if [ -e '${block}' ]; then touch '${started}'; sleep 60; fi`] },
      },
    });
    const a = repo.head();
    assert.equal((await project.cli('once')).code, 0);
    const b = await repo.commit();
    assert.equal((await project.cli('once')).code, 0);
    await writeFile(block, '');
    const rollback = startGitwatch(t, project, ['rollback', 'site']);
    await rollback.until(() => access(started).then(() => true), 'the rolled-back step');
    rollback.child.kill('SIGKILL');
    await rollback.exited;
    const now = await entry(project);
    assert.equal(now?.pinned?.commit, a, 'the pin is recorded before its run starts');
    assert.equal(now?.commit, b, 'the run never ended, so the lock has not moved');
    await rm(block);
    const once = await project.cli('once');
    assert.equal(once.code, 0, once.stdout + once.stderr);
    assert.match(once.stdout, /rollback/);
    const after = await entry(project);
    assert.equal(after?.commit, a);
    assert.equal(after?.pinned?.commit, a);
  });
});

describe('gitwatch rollback with a daemon', () => {
  test('pins through the daemon, lasts across a restart, shows in status and metrics, and a url change unpins it with a log line', async (t) => {
    const { repo, project } = await siteProject(t, { interval: '1s' });
    const a = repo.head();
    let daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    await daemon.until(async () => (await entry(project))?.commit === a, 'the first run');
    const b = await repo.commit();
    await daemon.until(async () => (await entry(project))?.commit === b, 'the second run');

    const back = await project.cli('rollback', 'site');
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal(back.stdout, 'site succeeded\n');
    assert.equal((await entry(project))?.pinned?.commit, a);
    assert.equal((await ran(project)).at(-1), a);
    const metrics = await (await fetch(`${await listeningUrl(daemon)}/metrics`)).text();
    assert.match(metrics, /^gitwatch_pinned\{repo="site"\} 1$/m);

    const c = await repo.commit();
    await daemon.until(
      async () => (await project.cli('status')).stdout.includes(`pinned at ${a.slice(0, 12)}; head is ${c.slice(0, 12)}`),
      'status shows the head',
    );
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);

    // After a restart the pin holds: three checks later, c has still not run.
    daemon = startDaemon(t, project);
    await daemon.until(() => daemon.stdout().includes(`pinned at ${a.slice(0, 12)}`), 'the pinned line after the restart');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(!(await ran(project)).includes(c), 'a pinned repo does not run its new head');

    // A new url for the repo: the pin was made on the old one, so it ends, and the log says so.
    const moved = await TestRepo.create(path.join(path.dirname(repo.dir), 'moved'));
    await project.writeConfig({
      version: 1,
      repos: { site: { url: moved.url, branch: 'main', interval: '1s', pipeline: [RECORD_STEP, FAILS_ON_BAD] } },
    });
    await daemon.until(async () => (await entry(project))?.commit === moved.head(), 'the new url runs');
    assert.equal((await entry(project))?.pinned, undefined);
    assert.match(daemon.stdout(), new RegExp(`unpinned from ${a.slice(0, 12)}: the repo's url or ref changed in the config`));
  });

  test('a webhook on a pinned repo checks it and runs nothing; unpin runs the head at once; a commit outside the branch exits 2', async (t) => {
    const secret = 'a-webhook-secret';
    const { repo, project } = await siteProject(t, { webhook_secret: secret });
    const a = repo.head();
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    await daemon.until(async () => (await entry(project))?.lastRun !== undefined, 'the first run');
    await repo.commit();
    const trigger = await project.cli('trigger', '--wait', 'site');
    assert.equal(trigger.code, 0);
    repo.git('checkout', '--quiet', '-b', 'elsewhere');
    const outside = await repo.commit();
    repo.git('checkout', '--quiet', 'main');
    const refused = await project.cli('rollback', '--to', outside, 'site');
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.equal((await entry(project))?.pinned, undefined);

    assert.equal((await project.cli('rollback', 'site')).code, 0);
    const c = await repo.commit();
    // The interval is an hour: only the webhook's check can have seen c.
    assert.equal((await send(`${await listeningUrl(daemon)}/hooks/site`, push('github', secret))).status, 202);
    await daemon.until(async () => (await project.cli('status')).stdout.includes(`head is ${c.slice(0, 12)}`), "the webhook's check");
    assert.equal((await ran(project)).at(-1), a, 'the webhook ran nothing new');
    assert.equal((await project.cli('unpin', 'site')).code, 0);
    await daemon.until(async () => (await entry(project))?.commit === c, 'the head runs after unpin');
    assert.deepEqual((await ran(project)).slice(-2), [a, c]);
  });
});

describe("the config's commit:", () => {
  test('runs the commit once, runs nothing new until the config names another, and says how to allow a fetch by id', async (t) => {
    const { repo, project } = await siteProject(t);
    const a = repo.head();
    const b = await repo.commit();
    const config = (commit: string): unknown => ({
      version: 1,
      repos: { site: { url: repo.url, commit, interval: '1h', pipeline: [RECORD_STEP] } },
    });
    await project.writeConfig(config(a));
    assert.equal((await project.cli('once')).code, 0);
    assert.equal((await project.cli('once')).code, 0);
    await repo.commit();
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual(await ran(project), [a]);
    const plan = await project.cli('plan');
    assert.match(plan.stdout, new RegExp(`site\\s+pinned\\s+${a.slice(0, 12)}\\s+pinned at ${a.slice(0, 12)}`));
    await project.writeConfig(config(b));
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual(await ran(project), [a, b]);
    assert.equal((await entry(project))?.branch, undefined);
    // An operator cannot roll back what the config pins.
    const back = await project.cli('rollback', 'site');
    assert.equal(back.code, 2);
    assert.match(back.stderr, /pinned by its config/);

    await project.writeConfig(config('0123456789abcdef0123456789abcdef01234567'));
    const missing = await project.cli('once');
    assert.equal(missing.code, 1);
    assert.match(missing.stdout + missing.stderr, /uploadpack\.allowReachableSHA1InWant or uploadpack\.allowAnySHA1InWant/);
  });

  test('with branch or tag, or not a full commit id, is a config error at its line', async (t) => {
    const { repo, project } = await siteProject(t);
    await writeFile(project.configPath, `version: 1\nrepos:\n  site:\n    url: ${repo.url}\n    branch: main\n    commit: ${repo.head()}\n    pipeline: [x]\n`);
    const both = await project.cli('validate');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /gitwatch\.yaml:\d+:\d+: a repo pinned to a commit follows no branch/);
    await writeFile(project.configPath, `version: 1\nrepos:\n  site:\n    url: ${repo.url}\n    commit: abc123\n    pipeline: [x]\n`);
    const short = await project.cli('validate');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /gitwatch\.yaml:5:\d+: .*\(at repos\.site\.commit\)/);
  });
});

describe('the lock history', () => {
  test('keeps the newest 20 runs, newest first; a lock without history, or with keys it does not know, reads as before', async (t) => {
    const { repo, project } = await siteProject(t);
    // A lock an older gitwatch wrote, with a key from a newer one.
    await writeFile(
      project.statePath,
      JSON.stringify({ version: 1, repos: { site: { branch: 'main', commit: repo.head(), url: repo.url, future: { kept: true } } } }),
    );
    const commits: string[] = [];
    for (let i = 0; i < 22; i++) {
      commits.push(await repo.commit());
      const once = await project.cli('once');
      assert.equal(once.code, 0, once.stdout + once.stderr);
    }
    const now = await entry(project);
    assert.equal(now?.history?.length, 20);
    assert.deepEqual(
      now?.history?.map((h) => h.commit),
      commits.slice(2).reverse(),
    );
    assert.deepEqual(now?.history?.[0], {
      commit: now?.lastRun?.commit,
      status: 'succeeded',
      startedAt: now?.history?.[0]?.startedAt,
      finishedAt: now?.history?.[0]?.finishedAt,
    });
    assert.deepEqual(now?.['future'], { kept: true });
  });
});
