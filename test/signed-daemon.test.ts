// `verify:` in the daemon (`gitwatch run --listen`), with real gpg keys: a refused head is news once per
// commit however often it is polled, counted in gitwatch_verify_failures_total, and shown by `status`; a
// trigger of it is refused again (and counted, and still not news twice); a pause and a resume change
// none of that; a reload that names the right key lets the waiting commit run, which is a recovery. An
// edit of a key file alone reloads too: a key added lets its commit run, a file emptied is rejected and the
// keys read last keep counting.

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { listeningUrl, send } from './helpers/listen.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { commitSigned, makeGpgKey, signingToolsMissing } from './helpers/signing.js';
import { tempDir } from './helpers/temp.js';

const missing = signingToolsMissing();

interface News {
  commit: string;
  status: string;
  event: string;
  error: string | null;
  log: string | null;
}

interface Lock {
  repos: Record<string, { commit?: string; paused?: true; unverified?: { commit: string; reason: string } } | undefined>;
}

/** One value of a metric with this repo label, or 0 when it is not there yet. */
function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{repo="site"${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** Two gpg keys, a remote `site` and a project, and the project's lock entry for `site`. */
async function signedSite(t: TestContext) {
  const root = await tempDir(t);
  const deploy = await makeGpgKey(t, root, 'deploy');
  const release = await makeGpgKey(t, root, 'release');
  const remote = await TestRepo.create(path.join(root, 'site'));
  const project = await makeProject(t);
  const lock = async (): Promise<NonNullable<Lock['repos'][string]>> => ((await project.state()) as unknown as Lock).repos['site'] ?? {};
  return { deploy, release, remote, project, lock };
}

describe('verify: in the daemon', { skip: missing ?? false }, () => {
  test('a refused head is news once, counted, shown; a trigger and a pause do not change that; a reload with the right key runs it', async (t) => {
    const { deploy, release, remote, project, lock } = await signedSite(t);
    const newsFile = path.join(project.dir, 'news.jsonl');
    await writeFile(path.join(project.dir, 'deploy.asc'), deploy.publicKey);
    await writeFile(path.join(project.dir, 'release.asc'), release.publicKey);
    const config = (keys: string[]): unknown => ({
      version: 1,
      repos: {
        site: {
          url: remote.url,
          interval: '1s',
          verify: { mode: 'head', gpg_keys: keys },
          pipeline: [RECORD_STEP],
          notify: [{ on: ['failure', 'recovered'], command: `cat >> '${newsFile}' && echo >> '${newsFile}'` }],
        },
      },
    });
    await project.writeConfig(config(['deploy.asc']));
    const news = async (): Promise<News[]> =>
      (await readFile(newsFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as News);

    const first = commitSigned(remote, { gpg: deploy });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const metrics = async (): Promise<string> => (await send(`${await listeningUrl(daemon)}/metrics`)).body;
    await daemon.until(async () => (await lock()).commit === first, 'the signed head runs');
    assert.equal(metric(await metrics(), 'gitwatch_verify_failures_total'), 0);

    // Polled many times, refused once: one line, one notification, one count.
    const unsigned = commitSigned(remote, undefined);
    await daemon.until(async () => (await lock()).unverified?.commit === unsigned, 'the refusal in the lock');
    const checks = metric(await metrics(), 'gitwatch_checks_total', ',result="ok"');
    await daemon.until(async () => metric(await metrics(), 'gitwatch_checks_total', ',result="ok"') >= checks + 3, 'three more checks');
    await daemon.until(async () => (await news()).length === 1, 'the news of it');
    assert.equal((await news()).length, 1);
    assert.equal(metric(await metrics(), 'gitwatch_verify_failures_total'), 1);
    assert.equal(
      daemon
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('site ✖ unverified: ')).length,
      1,
      daemon.stdout(),
    );
    const told = (await news())[0];
    assert.equal(told?.commit, unsigned);
    assert.equal(told?.status, 'unverified');
    assert.equal(told?.event, 'failure');
    assert.match(told?.error ?? '', new RegExp(`^commit ${unsigned.slice(0, 12)}: unsigned$`));
    assert.equal(told?.log, null);
    assert.equal((await lock()).commit, first, 'the lock stays');
    assert.equal((await project.record()).length, 1, 'nothing ran');

    const status = JSON.parse((await project.cli('status', '--json')).stdout) as { daemon: unknown; repos: { unverified: { commit: string } | null }[] };
    assert.notEqual(status.daemon, null);
    assert.equal(status.repos[0]?.unverified?.commit, unsigned);
    assert.match((await project.cli('status')).stdout, /unverified: commit [0-9a-f]{12}: unsigned/);

    // A trigger verifies again, and is refused again: counted, said, and not news twice.
    const triggered = await project.cli('trigger', '--wait', 'site');
    assert.equal(triggered.code, 1, triggered.stdout + triggered.stderr);
    assert.equal(triggered.stdout, `site unverified: commit ${unsigned.slice(0, 12)}: unsigned\n`);
    await daemon.until(async () => metric(await metrics(), 'gitwatch_verify_failures_total') === 2, 'the trigger counted');
    assert.equal((await news()).length, 1);

    // A pause and a resume: the refusal stays known; the resumed check does not make it news or count it again.
    assert.equal((await project.cli('pause', 'site')).code, 0);
    assert.match((await project.cli('status')).stdout, /paused.*unverified: commit|unverified: commit[\s\S]*paused/);
    const beforeResume = metric(await metrics(), 'gitwatch_checks_total', ',result="ok"');
    assert.equal((await project.cli('resume', 'site')).code, 0);
    await daemon.until(async () => metric(await metrics(), 'gitwatch_checks_total', ',result="ok"') >= beforeResume + 2, 'checks after the resume');
    assert.equal(metric(await metrics(), 'gitwatch_verify_failures_total'), 2);
    assert.equal((await news()).length, 1);

    // A commit by a key the config does not name yet: new news; a reload that names it runs it.
    const byRelease = commitSigned(remote, { gpg: release });
    await daemon.until(async () => (await lock()).unverified?.commit === byRelease, 'the second refusal');
    await daemon.until(async () => (await news()).length === 2, 'its news');
    assert.match((await news())[1]?.error ?? '', new RegExp(`unknown key \\(signed by gpg key ${release.keyId}, `));
    await project.writeConfig(config(['deploy.asc', 'release.asc']));
    await daemon.until(async () => (await lock()).commit === byRelease, 'the reload lets it run');
    assert.equal((await lock()).unverified, undefined);
    await daemon.until(async () => (await news()).length === 3, 'the recovery');
    assert.equal((await news())[2]?.event, 'recovered');
    assert.equal((await news())[2]?.commit, byRelease);
    assert.equal(metric(await metrics(), 'gitwatch_verify_failures_total'), 3);
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('an edit of a key file alone reloads: a key added runs its waiting commit, a file emptied keeps the keys read last, a file named by a reload is watched, even by one that failed', async (t) => {
    const { deploy, release, remote, project, lock } = await signedSite(t);
    /** The config with `site` verified by the one key file `keyFile` (relative to the config). */
    const namingKeys = (keyFile: string): unknown => ({
      version: 1,
      repos: { site: { url: remote.url, interval: '1s', verify: { mode: 'head', gpg_keys: [keyFile] }, pipeline: [RECORD_STEP] } },
    });
    const keys = path.join(project.dir, 'keys', 'trusted.asc');
    await mkdir(path.dirname(keys));
    await writeFile(keys, deploy.publicKey);
    await project.writeConfig(namingKeys('keys/trusted.asc'));
    const said = (what: string): number =>
      daemon
        .stdout()
        .split('\n')
        .filter((l) => l.includes(what)).length;
    const reloads = (): number => said('config reloaded');
    const rejected = (): number => said('config rejected');

    const first = commitSigned(remote, { gpg: deploy });
    const daemon = startDaemon(t, project);
    await daemon.until(async () => (await lock()).commit === first, 'the signed head runs');
    const byRelease = commitSigned(remote, { gpg: release });
    await daemon.until(async () => (await lock()).unverified?.commit === byRelease, 'the refusal of an unknown key');

    // The config file is not touched: the key file's edit is the reload.
    await writeFile(keys, deploy.publicKey + release.publicKey);
    await daemon.until(async () => (await lock()).commit === byRelease, 'the added key lets it run');
    assert.equal(reloads(), 1, daemon.stdout());

    // A key file emptied is the reload's problem, said at the config line that names it; the keys read
    // last still count, so a commit by the release key runs.
    const rejectedBefore = rejected();
    await writeFile(keys, '');
    await daemon.until(() => rejected() > rejectedBefore, 'the rejection');
    assert.match(daemon.stderr(), /gitwatch.yaml:\d+:\d+: key file .*trusted\.asc has no key: it is empty/);
    const again = commitSigned(remote, { gpg: release });
    await daemon.until(async () => (await lock()).commit === again, 'the old keys still count');
    assert.equal(reloads(), 1, daemon.stdout());

    // A reload that names another key file (in another folder) watches that one from then on, and no
    // longer the one it dropped.
    const other = path.join(project.dir, 'other-keys', 'deploy.asc');
    await mkdir(path.dirname(other));
    await writeFile(other, deploy.publicKey);
    await project.writeConfig(namingKeys('other-keys/deploy.asc'));
    await daemon.until(() => reloads() === 2, 'the reload that names the other file');
    const third = commitSigned(remote, { gpg: release });
    await daemon.until(async () => (await lock()).unverified?.commit === third, 'the release key no longer counts');
    // The file it dropped: edited, and nothing happens (a watch sees an edit in well under a second).
    await writeFile(keys, deploy.publicKey + release.publicKey);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(reloads(), 2, daemon.stdout());
    assert.equal((await lock()).unverified?.commit, third);
    await writeFile(other, deploy.publicKey + release.publicKey);
    await daemon.until(async () => (await lock()).commit === third, 'the edit of the file it names now lets it run');
    assert.equal(reloads(), 3, daemon.stdout());

    // A config that names a key file not there yet is rejected; creating the file is what reloads it.
    const later = path.join(project.dir, 'later-keys', 'all.asc');
    await mkdir(path.dirname(later));
    const rejectedBeforeMissing = rejected();
    await project.writeConfig(namingKeys('later-keys/all.asc'));
    await daemon.until(() => rejected() > rejectedBeforeMissing, 'the rejection of a missing key file');
    assert.match(daemon.stderr(), /cannot read key file .*all\.asc: no such file/);
    await writeFile(later, deploy.publicKey);
    await daemon.until(() => reloads() === 4, 'the key file created, the config applied');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });
});
