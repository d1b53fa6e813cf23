import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startGitDaemon, TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

describe('gitwatch once', () => {
  test('processes the head the first time, then runs nothing while the remote is unchanged', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });

    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await project.record(), [`site ${remote.head()} prev= step=${RECORD_STEP}`]);
    const state = await project.state();
    assert.equal(state.repos['site']?.commit, remote.head());
    assert.equal(state.repos['site']?.branch, 'main');
    assert.equal(state.repos['site']?.lastRun?.status, 'succeeded');

    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /site ✔ up to date/);
    assert.equal((await project.record()).length, 1, 'the pipeline ran again for the same commit');
  });

  test('runs a new commit once, with GITWATCH_COMMIT and GITWATCH_PREVIOUS_COMMIT', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });
    const first = remote.head();
    assert.equal((await project.cli('once')).code, 0);
    const second = await remote.commit();
    assert.equal((await project.cli('once')).code, 0);
    assert.equal((await project.cli('once')).code, 0);
    assert.deepEqual(await project.record(), [`site ${first} prev= step=${RECORD_STEP}`, `site ${second} prev=${first} step=${RECORD_STEP}`]);
  });

  test('the checkout is the commit, detached and clean, with a .git steps can use', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: {
          url: remote.url,
          pipeline: ['git rev-parse HEAD >> "$RECORD"', 'git status --porcelain >> "$RECORD"', 'echo dirty > untracked.txt && echo changed > README.md'],
        },
      },
    });
    assert.equal((await project.cli('once')).code, 0);
    const sha = await remote.commit({ 'app.txt': 'v2\n' });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // The second run saw a clean tree: the untracked file and the edit of the first run are gone.
    assert.deepEqual(await project.record(), [remote.git('rev-parse', 'HEAD~1'), sha]);
    const checkout = path.join(project.dir, '.gitwatch', 'site');
    assert.equal(await readFile(path.join(checkout, 'app.txt'), 'utf8'), 'v2\n');
  });

  test('a failing step stops the later steps, exits 1, keeps the commit, records the attempt; other repos still run', async (t) => {
    const root = await tempDir(t);
    const bad = await TestRepo.create(path.join(root, 'bad'));
    const good = await TestRepo.create(path.join(root, 'good'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        bad: { url: bad.url, pipeline: [RECORD_STEP, { name: 'build', run: 'echo compiling; echo broken >&2; exit 3' }, { name: 'deploy', run: RECORD_STEP }] },
        good: { url: good.url, pipeline: [RECORD_STEP] },
      },
    });
    assert.equal((await project.cli('once')).code, 1);
    const firstBad = bad.head();

    // The first run failed, so the lock has no commit yet; a new commit runs, and fails again.
    const newer = await bad.commit();
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /bad build ✖ .*exited with code 3/);
    assert.match(result.stdout, /bad build │ broken/);
    assert.match(result.stdout, /bad deploy - skipped/);
    const state = await project.state();
    assert.equal(state.repos['bad']?.commit, undefined);
    assert.equal(state.repos['bad']?.lastRun?.status, 'failed');
    assert.equal(state.repos['bad']?.lastRun?.commit, newer);
    assert.equal(state.repos['bad']?.lastRun?.error, "step 'build' exited with code 3");
    assert.equal(state.repos['good']?.commit, good.head());
    const lines = await project.record();
    assert.ok(!lines.some((l) => l.includes('step=deploy')), 'the step after the failure ran');
    assert.deepEqual(
      lines.filter((l) => l.startsWith('bad')).map((l) => l.split(' ')[1]),
      [firstBad, newer],
    );

    // The failed commit is not re-run on every cycle, but the repo stays red until a newer commit fixes it.
    const again = await project.cli('once');
    assert.equal(again.code, 1, again.stdout + again.stderr);
    assert.match(again.stdout, /bad · .* failed before/);
    assert.equal((await project.record()).filter((l) => l.startsWith('bad')).length, 2);
    // Selecting only the healthy repo leaves the waiting one out of the exit code.
    assert.equal((await project.cli('once', 'good')).code, 0);
  });

  test('a failure after a success leaves the commit where it was', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['test ! -f fail'] } } });
    assert.equal((await project.cli('once')).code, 0);
    const good = remote.head();
    const broken = await remote.commit({ fail: 'yes' });
    assert.equal((await project.cli('once')).code, 1);
    const state = await project.state();
    assert.equal(state.repos['site']?.commit, good);
    assert.equal(state.repos['site']?.lastRun?.commit, broken);
    assert.equal(state.repos['site']?.lastRun?.status, 'failed');
  });

  test('continue_on_error lets the pipeline go on and succeed', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: [{ run: 'exit 1', continue_on_error: true }, RECORD_STEP] } },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout);
    assert.equal((await project.record()).length, 1);
    assert.equal((await project.state()).repos['site']?.commit, remote.head());
  });

  test('a force push runs the rewritten head', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    await remote.commit();
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });
    assert.equal((await project.cli('once')).code, 0);
    const before = remote.head();
    const rewritten = await remote.forcePush();
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      (await project.record()).map((l) => l.split(' ').slice(1, 3).join(' ')),
      [`${before} prev=`, `${rewritten} prev=${before}`],
    );
    assert.equal((await project.state()).repos['site']?.commit, rewritten);
  });

  test('a branch missing on the remote fails that repo only and names the branch', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        missing: { url: remote.url, branch: 'release/9', pipeline: [RECORD_STEP] },
        site: { url: remote.url, pipeline: [RECORD_STEP] },
      },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /missing ✖ check failed: .*branch 'release\/9' not found on the remote/);
    const state = await project.state();
    assert.equal(state.repos['missing'], undefined, 'a failed check is not written to the lock');
    assert.equal(state.repos['site']?.commit, remote.head());
  });

  test('an unreachable remote fails that repo only', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { gone: { url: path.join(root, 'does-not-exist'), pipeline: ['true'] }, site: { url: remote.url, pipeline: [RECORD_STEP] } },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /gone ✖ check failed: .*(not found|unreachable)/);
    assert.equal((await project.record()).length, 1);
  });

  test('follows a remote over git daemon, and a repo without branch follows the default branch', async (t) => {
    const base = await tempDir(t);
    const remote = await TestRepo.create(path.join(base, 'site'), 'trunk');
    const daemon = await startGitDaemon(t, base);
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: daemon.url('site'), pipeline: [RECORD_STEP, 'echo "$GITWATCH_BRANCH $GITWATCH_URL" >> "$RECORD"'] } },
    });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const sha = await remote.commit();
    const second = await project.cli('once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const lines = await project.record();
    assert.equal(lines[1], `trunk ${daemon.url('site')}`);
    assert.ok(lines[2]?.startsWith(`site ${sha} `));
    assert.equal((await project.state()).repos['site']?.branch, 'trunk');

    await daemon.stop();
    await remote.commit();
    const down = await project.cli('once');
    assert.equal(down.code, 1);
    assert.match(down.stdout, /site ✖ check failed: .*unreachable/);
    assert.equal((await project.state()).repos['site']?.commit, sha, 'a failed check moved the lock');
  });

  test('a step past its timeout is killed with its children within seconds', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: [{ name: 'hang', run: 'sleep 300 & echo $! > "$RECORD.child"; trap "" TERM; sleep 300', timeout: '1s' }] } },
    });
    const started = Date.now();
    const result = await project.cli('once');
    const took = Date.now() - started;
    assert.equal(result.code, 1);
    assert.match(result.stdout, /hang ✖ .*timed out after 1s/);
    assert.ok(took < 12_000, `took ${took} ms`);
    const child = Number((await readFile(`${project.env['RECORD']}.child`, 'utf8')).trim());
    assert.throws(() => process.kill(child, 0), /ESRCH/, 'the step left its child running');
    assert.equal((await project.state()).repos['site']?.lastRun?.error, "step 'hang' timed out after 1s");
  });

  test('a step ends when its process exits, even if a background process holds its output', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, pipeline: ['sleep 30 & echo $! > "$RECORD.bg"; echo started'] } },
    });
    const started = Date.now();
    const result = await project.cli('once');
    assert.equal(result.code, 0);
    assert.ok(Date.now() - started < 10_000);
    const bg = Number((await readFile(`${project.env['RECORD']}.bg`, 'utf8')).trim());
    // Background processes a finished step leaves behind are left alone.
    assert.doesNotThrow(() => process.kill(bg, 0));
    process.kill(bg, 'SIGKILL');
  });

  test('a step whose cwd is missing in the checkout fails with that reason, not as a missing command', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: {
          url: remote.url,
          pipeline: [
            { name: 'build', run: RECORD_STEP, cwd: 'web' },
            { name: 'deploy', run: RECORD_STEP },
          ],
        },
      },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /site build ✖ .*cwd 'web' does not exist in the checkout/);
    assert.doesNotMatch(result.stdout, /command not found/);
    assert.match(result.stdout, /site deploy - skipped/);
    assert.deepEqual(await project.record(), []);
    assert.equal((await project.state()).repos['site']?.lastRun?.error, "step 'build': cwd 'web' does not exist in the checkout");
  });

  test('a local failure (the checkout path is a file) fails that repo only', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { broken: { url: remote.url, checkout: './not-a-folder', pipeline: [RECORD_STEP] }, site: { url: remote.url, pipeline: [RECORD_STEP] } },
    });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(project.dir, 'not-a-folder'), 'a file\n');
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /broken ✖ local failure: .*not-a-folder/);
    assert.deepEqual(
      (await project.record()).map((l) => l.split(' ')[0]),
      ['site'],
    );
    assert.equal((await project.state()).repos['broken'], undefined);
  });

  test('status --json reflects the lock, and lists removed repos', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const b = await TestRepo.create(path.join(root, 'b'));
    const project = await makeProject(t, { version: 1, repos: { a: { url: a.url, pipeline: ['true'] }, b: { url: b.url, pipeline: ['false'] } } });
    await project.cli('once');
    await project.writeConfig({ version: 1, repos: { b: { url: b.url, pipeline: ['false'] } } });
    const result = await project.cli('status', '--json');
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout) as { repos: { name: string; configured: boolean; commit: string | null; lastRun: { status: string } | null }[] };
    assert.deepEqual(
      status.repos.map((r) => [r.name, r.configured, r.commit, r.lastRun?.status]),
      [
        ['b', true, null, 'failed'],
        ['a', false, a.head(), 'succeeded'],
      ],
    );
    const text = await project.cli('status');
    assert.match(text.stdout, /^REPO +FOLLOWS +COMMIT +LAST RUN +RESULT/);
    assert.match(text.stdout, /a \(removed\) +main/);
  });

  test('status: a tag, a branch glob and a disabled repo read as what they are', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'r'));
    remote.git('tag', 'v1.0.0');
    remote.git('checkout', '-q', '-b', 'release/1');
    await remote.commit();
    const project = await makeProject(t, {
      version: 1,
      repos: {
        rel: { url: remote.url, tag: 'v*', pipeline: ['true'] },
        shop: { url: remote.url, branch: 'release/*', pipeline: ['true'] },
        none: { url: remote.url, branch: 'hotfix/*', pipeline: ['true'] },
        off: { url: remote.url, enabled: false, pipeline: ['true'] },
      },
    });
    assert.equal((await project.cli('once')).code, 0);
    const lines = (await project.cli('status')).stdout.split('\n');
    const row = (name: string): string => lines.find((l) => l.startsWith(`${name} `)) ?? '';
    assert.match(row('rel'), /^rel +tag v1\.0\.0 +[0-9a-f]{12} +\d+s ago \([0-9a-f]{12}\) +succeeded$/);
    assert.match(row('shop'), /^shop +release\/\* +- +- +1 branch$/);
    assert.match(row('shop@release/1'), /^shop@release\/1 +release\/1 +[0-9a-f]{12} .* succeeded$/);
    assert.match(row('none'), /^none +hotfix\/\* +- +- +no branch matches$/);
    assert.match(row('off'), /^off +\(default\) +- +never +disabled$/);
  });

  test('runs only the named repos, and an unknown name exits 2', async (t) => {
    const root = await tempDir(t);
    const a = await TestRepo.create(path.join(root, 'a'));
    const project = await makeProject(t, { version: 1, repos: { a: { url: a.url, pipeline: [RECORD_STEP] }, b: { url: a.url, pipeline: [RECORD_STEP] } } });
    assert.equal((await project.cli('once', 'b')).code, 0);
    assert.deepEqual(
      (await project.record()).map((l) => l.split(' ')[0]),
      ['b'],
    );
    const unknown = await project.cli('once', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown repo 'nope'/);
  });

  test("keeps each run's full output in the run log, readable by its owner only", async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['echo hello-from-step', 'echo to-stderr >&2'] } } });
    assert.equal((await project.cli('once')).code, 0);
    const dir = path.join(project.dir, '.gitwatch', 'logs', 'site');
    const [log] = await readdir(dir);
    assert.ok(log);
    const text = await readFile(path.join(dir, log), 'utf8');
    assert.match(text, /hello-from-step/);
    assert.match(text, /to-stderr/);
    assert.equal((await stat(path.join(dir, log))).mode & 0o777, 0o600);
    assert.equal((await stat(project.statePath)).mode & 0o777, 0o600);
  });

  test('--log-format json prints one JSON object per event and nothing else', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['echo hi'] } } });
    const result = await project.cli('--log-format', 'json', 'once');
    assert.equal(result.code, 0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; repo: string });
    assert.deepEqual(
      events.map((e) => e.event),
      ['run-started', 'step-started', 'step-finished', 'run-finished'],
    );
    assert.ok(events.every((e) => e.repo === 'site'));
  });

  test('an unparsable state file exits 2, names the file, and is left as it was', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(project.statePath, '{"version": 1, "repos": {');
    const result = await project.cli('once');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /\.gitwatch\.lock\.json is not valid JSON/);
    assert.equal(await readFile(project.statePath, 'utf8'), '{"version": 1, "repos": {');
    assert.deepEqual(await project.record(), []);
  });

  test('a config error exits 2 and writes nothing', async (t) => {
    const project = await makeProject(t, 'version: 1\nrepos:\n  site:\n    url: /tmp/x\n    interval: soon\n    pipeline: ["true"]\n');
    const result = await project.cli('once');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /gitwatch\.yaml:5:15: expected a duration .* \(at repos\.site\.interval\)/);
    assert.equal(existsSync(project.statePath), false);
    assert.equal(existsSync(path.join(project.dir, '.gitwatch')), false);
  });
});

describe('one gitwatch per state', () => {
  test('a second once on the same state exits 2 at once and names the pid', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['touch "$RECORD.started"; sleep 5'] } } });
    const first = project.cli('once');
    const until = Date.now() + 10_000;
    while (!existsSync(`${project.env['RECORD']}.started`) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const second = await project.cli('once');
    assert.equal(second.code, 2);
    const pid = (await readFile(`${project.statePath}.pid`, 'utf8')).trim();
    assert.match(second.stderr, new RegExp(`locked by another running gitwatch \\(pid ${pid}\\)`));
    assert.equal((await first).code, 0);
  });
});
