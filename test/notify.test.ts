import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { post } from '../src/notify/deliver.js';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { startReceiver } from './helpers/receiver.js';
import { tempDir } from './helpers/temp.js';

/** Fails when the commit's status.txt says so: the test chooses each run's result by what it commits. */
const CHECK_STEP = '! grep -q fail status.txt 2>/dev/null';
const TOKEN = 'tok-5ecr3t-0123456789';
const ALL = ['failure', 'success', 'recovered'];
const execFileAsync = promisify(execFile);

describe('notify', () => {
  test('once: one body per matching run, json/slack/discord/command, recovered after a failure; the token never shows', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const receiver = await startReceiver(t);
    const project = await makeProject(t);
    const commandLog = path.join(project.dir, 'command.log');
    await project.writeConfig({
      version: 1,
      repos: {
        site: {
          url: remote.url,
          pipeline: [CHECK_STEP],
          notify: [
            { on: ALL, url: `${receiver.url}/json?token=\${NOTIFY_TOKEN}` },
            { on: ['recovered'], url: `${receiver.url}/slack`, format: 'slack' },
            { on: ['failure'], url: `${receiver.url}/discord`, format: 'discord' },
            { on: ['failure', 'recovered'], command: `cat >> '${commandLog}' && echo >> '${commandLog}'` },
            // Nothing listens on port 1: every delivery fails, is reported, and retried once.
            { on: ['failure'], url: `http://user:\${NOTIFY_TOKEN}@127.0.0.1:1/down?token=\${NOTIFY_TOKEN}` },
          ],
        },
      },
    });
    const env = { ...project.env, NOTIFY_TOKEN: TOKEN };
    const { runCli } = await import('./helpers/cli.js');
    const once = (): ReturnType<typeof runCli> => runCli(['once'], { cwd: project.dir, env });

    const first = remote.head();
    assert.equal((await once()).code, 0);
    const bad = await remote.commit({ 'status.txt': 'fail\n' });
    const failed = await once();
    assert.equal(failed.code, 1);
    const good = await remote.commit({ 'status.txt': 'ok\n' });
    const recovered = await once();
    assert.equal(recovered.code, 0);

    const at = (p: string): string[] => receiver.bodies.filter((b) => b.path.split('?')[0] === p).map((b) => b.body);
    const json = at('/json').map((b) => JSON.parse(b) as Record<string, unknown>);
    assert.deepEqual(
      json.map((b) => [b['commit'], b['status'], b['previousCommit'], b['event']]),
      [
        [first, 'succeeded', null, 'success'],
        [bad, 'failed', first, 'failure'],
        [good, 'succeeded', first, 'recovered'],
      ],
    );
    assert.deepEqual(Object.keys(json[1] ?? {}).sort(), [
      'branch',
      'commit',
      'durationMs',
      'error',
      'event',
      'finishedAt',
      'log',
      'previousCommit',
      'repo',
      'startedAt',
      'status',
      'url',
    ]);
    assert.equal(json[1]?.['error'], `step '${CHECK_STEP}' exited with code 1`);
    assert.equal(json[1]?.['url'], remote.url);
    assert.equal(json[1]?.['branch'], 'main');
    assert.equal(receiver.bodies[0]?.path, `/json?token=${TOKEN}`, 'the token is interpolated into the URL');

    const slack = at('/slack').map((b) => JSON.parse(b) as { text: string });
    assert.equal(slack.length, 1);
    assert.match(slack[0]?.text ?? '', new RegExp(`^gitwatch: site recovered: succeeded ${good.slice(0, 12)} on main`));
    const discord = at('/discord').map((b) => JSON.parse(b) as { content: string });
    assert.equal(discord.length, 1);
    assert.match(discord[0]?.content ?? '', new RegExp(`^gitwatch: site failed ${bad.slice(0, 12)} on main in .*exited with code 1$`));

    const fromCommand = (await readFile(commandLog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { commit: string; status: string; event: string });
    assert.deepEqual(
      fromCommand.map((b) => [b.commit, b.status, b.event]),
      [
        [bad, 'failed', 'failure'],
        [good, 'succeeded', 'recovered'],
      ],
    );

    assert.match(failed.stdout, /site ✖ notification 5 \(json\) failed: ECONNREFUSED; trying once more\n/);
    assert.match(failed.stdout, /site ✖ notification 5 \(json\) failed: ECONNREFUSED\n/);
    for (const r of [failed, recovered]) {
      const output = r.stdout + r.stderr;
      assert.doesNotMatch(output, new RegExp(TOKEN));
      assert.doesNotMatch(output, /127\.0\.0\.1:1\b|\/down/);
    }
  });

  test('run: a receiver that hangs or answers 500 delays no pipeline, gets one retry, and holds shutdown at most 10 s', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const hang = await startReceiver(t, 'hang');
    const fail = await startReceiver(t, 'fail');
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: {
          url: remote.url,
          interval: '1s',
          pipeline: [RECORD_STEP],
          notify: [
            { on: ALL, url: `${hang.url}/hang` },
            { on: ALL, url: `${fail.url}/fail` },
          ],
        },
      },
    });
    const daemon = startDaemon(t, project);
    const ran = async (sha: string): Promise<boolean> => (await project.record()).some((l) => l.startsWith(`site ${sha} `));
    await daemon.until(() => ran(remote.head()), 'the first run');
    await hang.received(1);
    for (let i = 0; i < 2; i++) {
      const sha = await remote.commit();
      const committed = Date.now();
      await daemon.until(() => ran(sha), 'the next run while the receiver hangs', 5000);
      // One interval (1 s, plus jitter) and the run itself: the hanging receiver adds nothing.
      assert.ok(Date.now() - committed < 3500, `the run waited ${Date.now() - committed} ms`);
    }
    // Each run's failing delivery is tried exactly twice.
    await fail.received(6);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(fail.bodies.length, 6);
    assert.match(daemon.stdout(), /site ✖ notification 2 \(json\) failed: HTTP 500; trying once more\n/);
    const state = await project.state();
    assert.equal(state.repos['site']?.lastRun?.status, 'succeeded');

    const stopping = Date.now();
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    const took = Date.now() - stopping;
    assert.ok(took < 12_000, `shutdown took ${took} ms`);
  });

  test('post: the 10 s limit fires even after a garbage collection (Node 20 collects an AbortSignal.timeout)', async (t) => {
    const hang = await startReceiver(t, 'hang');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sent = post(`${hang.url}/x`, '{}', { timeoutMs: 300, signal: new AbortController().signal });
    const outcome = sent.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await hang.received(1);
    gc();
    let timer: NodeJS.Timeout | undefined;
    const never = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the time limit never fired'), 5000)));
    assert.equal(await Promise.race([outcome, never]), 'no answer within 0.3s');
    clearTimeout(timer);
  });

  test('run: a receiver that never answers holds up only its own notifications; they fail, are retried, and are named at shutdown', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const hang = await startReceiver(t, 'hang');
    const ok = await startReceiver(t);
    const project = await makeProject(t, {
      version: 1,
      repos: {
        // Five targets on the hanging receiver: more than gitwatch delivers at once.
        a: { url: a.url, interval: '1h', pipeline: [RECORD_STEP], notify: [1, 2, 3, 4, 5].map((i) => ({ on: ALL, url: `${hang.url}/a${i}` })) },
        b: { url: b.url, interval: '1h', pipeline: [RECORD_STEP], notify: [{ on: ALL, url: `${ok.url}/b` }] },
      },
    });
    const daemon = startDaemon(t, project);
    await hang.received(2);
    // b runs right after a: its receiver hears of it at once, whatever a's receiver does.
    await ok.received(1, 5000);
    assert.equal((JSON.parse(ok.bodies[0]?.body ?? '{}') as { repo?: string }).repo, 'b');

    const stopping = Date.now();
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    const took = Date.now() - stopping;
    assert.ok(took < 12_000, `shutdown took ${took} ms`);
    const out = daemon.stdout();
    // The 10 s limit fired: the stuck deliveries were given up, said so, and were to be tried once more.
    assert.match(out, /a ✖ notification 1 \(json\) failed: no answer within 10s; trying once more\n/);
    // What never went out is named, not dropped without a word.
    assert.match(out, /a ✖ notification 5 \(json\) failed: dropped at shutdown\n/);
  });

  test('a notify command that cannot start for want of file descriptors fails with that reason', async () => {
    // A child under a small fd limit takes every descriptor it has left, then runs a command.
    const deliver = new URL('../src/notify/deliver.js', import.meta.url).href;
    const processes = new URL('../src/runtime/processes.js', import.meta.url).href;
    const script = `
      import { openSync } from 'node:fs';
      const { runCommand } = await import(${JSON.stringify(deliver)});
      const { ProcessGroups } = await import(${JSON.stringify(processes)});
      const groups = new ProcessGroups({ pid: process.pid, kill: (pid, signal) => process.kill(pid, signal) });
      try { for (;;) openSync('/dev/null', 'r'); } catch {}
      const signal = new AbortController().signal;
      await runCommand('cat', '{}', { timeoutMs: 5000, signal, cwd: '/', env: {}, groups }).then(
        () => console.log('ran'),
        (error) => console.log(error.message),
      );`;
    const { stdout } = await execFileAsync('/bin/sh', ['-c', 'ulimit -n 64 && exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', script]);
    assert.equal(stdout.trim(), 'cannot start /bin/sh: too many open files in gitwatch (EMFILE)');
  });
});
