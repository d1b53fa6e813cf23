// `verify:` through the built CLI, with keys made by real gpg and ssh-keygen for each test: a signed head
// runs; an unsigned one, one signed by a key not listed, one whose signature no longer fits, and one by an
// expired key do not (the lock stays, the checkout is not touched, `once` and `plan` exit 1, `status` says
// why); a lightweight tag under `mode: tag` is refused; and the user's own keyring, which holds the other
// key, changes nothing. Config problems are config errors at their line. The daemon's side (news once per
// commit, metrics, a trigger, a pause, a reload with the right key) is in signed-daemon.test.ts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { breakSignature, commitSigned, makeGpgKey, makeSshKey, signingToolsMissing, tagSigned, type GpgKey } from './helpers/signing.js';
import { tempDir } from './helpers/temp.js';

const missing = signingToolsMissing();
const short = (sha: string): string => sha.slice(0, 12);

interface Lock {
  repos: Record<string, { commit?: string; unverified?: { commit: string; reason: string } } | undefined>;
}

async function lockOf(project: Project): Promise<Lock['repos'][string]> {
  return ((await project.state()) as unknown as Lock).repos['site'];
}

/** The commit the checkout's HEAD is at, as a step would see it. */
function checkoutHead(project: Project): string {
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.join(project.dir, '.gitwatch', 'site'), env: project.env, encoding: 'utf8' }).trim();
}

/** A remote whose head is signed by `key`, and a project whose `site` verifies with `keys` (written beside the config). */
async function setUp(
  t: TestContext,
  root: string,
  keys: readonly GpgKey[],
  repo: Record<string, unknown> = {},
): Promise<{ remote: TestRepo; project: Project }> {
  const remote = await TestRepo.create(path.join(root, 'site'));
  const project = await makeProject(t);
  await mkdir(path.join(project.dir, 'keys'));
  for (const key of keys) await writeFile(path.join(project.dir, 'keys', `${key.email}.asc`), key.publicKey);
  await project.writeConfig({
    version: 1,
    repos: {
      site: {
        url: remote.url,
        verify: { mode: 'head', gpg_keys: keys.map((k) => `keys/${k.email}.asc`) },
        pipeline: [RECORD_STEP],
        ...repo,
      },
    },
  });
  return { remote, project };
}

describe('verify: signed commits, through the CLI', { skip: missing ?? false }, () => {
  test('gpg: a signed head runs; unsigned, unknown key, bad signature and expired key are refused; the user’s keyring changes nothing', async (t) => {
    const root = await tempDir(t);
    const deploy = await makeGpgKey(t, root, 'deploy');
    const expired = await makeGpgKey(t, root, 'expired', { expired: true });
    const other = await makeGpgKey(t, root, 'other');
    const { remote, project } = await setUp(t, root, [deploy, expired]);
    // The user's own keyring holds the other key (and trusts it ultimately: it made it): it must not count.
    project.env['GNUPGHOME'] = other.home;
    await symlink(other.home, path.join(project.dir, '.gnupg'));

    const good = commitSigned(remote, { gpg: deploy });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await project.record(), [`site ${good} prev= step=${RECORD_STEP}`]);
    assert.equal((await lockOf(project))?.commit, good);

    const cases: [string, () => string, RegExp][] = [
      ['unsigned', () => commitSigned(remote, undefined), /: unsigned$/],
      [
        'signed by a key not listed',
        () => commitSigned(remote, { gpg: other }),
        new RegExp(`: unknown key \\(signed by gpg key ${other.keyId}, which is not among the configured keys\\)$`),
      ],
      [
        'a signature that no longer fits',
        () => {
          commitSigned(remote, { gpg: deploy });
          return breakSignature(remote);
        },
        new RegExp(`: bad signature \\(gpg key ${deploy.keyId}: what is there is not what was signed\\)$`),
      ],
      ['signed by an expired key', () => commitSigned(remote, { gpg: expired }), new RegExp(`: expired key \\(gpg key ${expired.keyId}\\)$`)],
    ];
    for (const [what, make, why] of cases) {
      const head = make();
      const once = await project.cli('once');
      assert.equal(once.code, 1, `${what}: ${once.stdout}${once.stderr}`);
      assert.match(once.stdout, new RegExp(`^site ✖ unverified: commit ${short(head)}: .*; not checked out, nothing runs$`, 'm'), what);
      const lock = await lockOf(project);
      assert.equal(lock?.commit, good, `${what}: the lock stays`);
      assert.equal(lock?.unverified?.commit, head, what);
      assert.match(lock?.unverified?.reason ?? '', why, what);
      assert.equal(checkoutHead(project), good, `${what}: the checkout is not touched`);
      assert.equal((await project.record()).length, 1, `${what}: nothing ran`);

      const status = await project.cli('status');
      assert.equal(status.code, 0);
      assert.match(status.stdout, new RegExp(`unverified: commit ${short(head)}: `), what);
      const json = JSON.parse((await project.cli('status', '--json')).stdout) as { repos: { unverified: { commit: string; reason: string } | null }[] };
      assert.equal(json.repos[0]?.unverified?.commit, head, what);
      const plan = await project.cli('plan');
      assert.equal(plan.code, 1, `${what}: ${plan.stdout}${plan.stderr}`);
      assert.match(plan.stdout, new RegExp(`^site +unverified +${short(head)} +unverified: commit ${short(head)}: `, 'm'), what);
    }
    const planJson = JSON.parse((await project.cli('plan', '--json')).stdout) as { repos: { decision: string; reason: string }[] };
    assert.equal(planJson.repos[0]?.decision, 'unverified');

    // A later verified commit runs as usual, and the refusal is cleared.
    const later = commitSigned(remote, { gpg: deploy });
    const again = await project.cli('once');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await project.record()).at(-1), `site ${later} prev=${good} step=${RECORD_STEP}`);
    const lock = await lockOf(project);
    assert.equal(lock?.commit, later);
    assert.equal(lock?.unverified, undefined);
    assert.doesNotMatch((await project.cli('status')).stdout, /unverified/);
  });

  test('mode tag: a lightweight tag and an unsigned annotated one are refused, a signed tag runs; tag-and-head wants both', async (t) => {
    const root = await tempDir(t);
    const deploy = await makeGpgKey(t, root, 'deploy');
    const { remote, project } = await setUp(t, root, [deploy], { tag: 'v*' });
    const config = (mode: string): unknown => ({
      version: 1,
      repos: { site: { url: remote.url, tag: 'v*', verify: { mode, gpg_keys: [`keys/${deploy.email}.asc`] }, pipeline: [RECORD_STEP] } },
    });
    await project.writeConfig(config('tag'));

    commitSigned(remote, { gpg: deploy });
    remote.git('tag', 'v1.0.0');
    const light = await project.cli('once');
    assert.equal(light.code, 1, light.stdout + light.stderr);
    assert.match(light.stdout, /unverified: tag v1\.0\.0: lightweight tag, which carries no signature/);

    tagSigned(remote, 'v1.1.0', undefined);
    const plain = await project.cli('once');
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /unverified: tag v1\.1\.0 \([0-9a-f]{12}\): unsigned/);

    // The tag is what mode tag checks: a signed tag on an unsigned commit runs.
    const unsigned = commitSigned(remote, undefined);
    tagSigned(remote, 'v1.2.0', { gpg: deploy });
    const signed = await project.cli('once');
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
    assert.equal((await lockOf(project))?.commit, unsigned);

    await project.writeConfig(config('tag-and-head'));
    const bare = commitSigned(remote, undefined);
    tagSigned(remote, 'v1.3.0', { gpg: deploy });
    const both = await project.cli('once');
    assert.equal(both.code, 1);
    assert.match(both.stdout, new RegExp(`unverified: commit ${short(bare)}: unsigned`));
    const head = commitSigned(remote, { gpg: deploy });
    tagSigned(remote, 'v1.4.0', { gpg: deploy });
    const ok = await project.cli('once');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal((await lockOf(project))?.commit, head);
  });

  test('ssh: a commit signed by an allowed signer runs; another key, an expired signer and a gpg signature are refused', async (t) => {
    const root = await tempDir(t);
    const deploy = makeSshKey(root, 'deploy@example.invalid');
    const stranger = makeSshKey(root, 'stranger@example.invalid');
    const retired = makeSshKey(root, 'retired@example.invalid', 'valid-before="20200101"');
    const gpgKey = await makeGpgKey(t, root, 'gpgdeploy');
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t);
    // An allowed-signers file may hold comments and options.
    await writeFile(path.join(project.dir, 'allowed_signers'), `# who may deploy\n${deploy.allowed}\n${retired.allowed}\n`);
    await project.writeConfig({
      version: 1,
      repos: { site: { url: remote.url, verify: { mode: 'head', ssh_allowed_signers: 'allowed_signers' }, pipeline: [RECORD_STEP] } },
    });

    const good = commitSigned(remote, { ssh: deploy });
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal((await lockOf(project))?.commit, good);

    const cases: [string, () => string, RegExp][] = [
      [
        'another ssh key',
        () => commitSigned(remote, { ssh: stranger }),
        /: unknown key \(signed by SSH key SHA256:[^,]+, which is not among the configured keys\)$/,
      ],
      ['an expired signer', () => commitSigned(remote, { ssh: retired }), /: expired key \(SSH key SHA256:/],
      ['a gpg signature', () => commitSigned(remote, { gpg: gpgKey }), /: unknown key \(signed by gpg key /],
      ['unsigned', () => commitSigned(remote, undefined), /: unsigned$/],
    ];
    for (const [what, make, why] of cases) {
      const head = make();
      const once = await project.cli('once');
      assert.equal(once.code, 1, `${what}: ${once.stdout}${once.stderr}`);
      const lock = await lockOf(project);
      assert.equal(lock?.commit, good, what);
      assert.equal(lock?.unverified?.commit, head, what);
      assert.match(lock?.unverified?.reason ?? '', why, what);
    }
    const later = commitSigned(remote, { ssh: deploy });
    assert.equal((await project.cli('once')).code, 0);
    assert.equal((await lockOf(project))?.commit, later);
  });

  test('a pinned commit is checked for its own signature: a rollback to an unsigned one is refused, to a signed one runs', async (t) => {
    const root = await tempDir(t);
    const deploy = await makeGpgKey(t, root, 'deploy');
    const { remote, project } = await setUp(t, root, [deploy]);
    const first = commitSigned(remote, { gpg: deploy });
    assert.equal((await project.cli('once')).code, 0);
    const second = commitSigned(remote, { gpg: deploy });
    assert.equal((await project.cli('once')).code, 0);
    const unsigned = commitSigned(remote, undefined);
    assert.equal((await project.cli('once')).code, 1);

    const refused = await project.cli('rollback', '--to', unsigned, 'site');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, new RegExp(`unverified: pinned commit ${short(unsigned)}: unsigned`));
    assert.equal((await lockOf(project))?.commit, second, 'the lock stays');
    assert.equal((await project.record()).length, 2, 'nothing ran');

    const back = await project.cli('rollback', '--to', first, 'site');
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal((await lockOf(project))?.commit, first);
    assert.equal((await project.record()).at(-1), `site ${first} prev=${second} step=${RECORD_STEP}`);
  });

  test('key files: missing, keyless or of the wrong kind are config errors at their line; a missing gpg is one at start', async (t) => {
    const root = await tempDir(t);
    const deploy = await makeGpgKey(t, root, 'deploy');
    const sshKey = makeSshKey(root, 'deploy@example.invalid');
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t);
    await writeFile(path.join(project.dir, 'deploy.asc'), deploy.publicKey);
    await writeFile(path.join(project.dir, 'empty.asc'), '');
    await writeFile(path.join(project.dir, 'notes.txt'), 'a public key goes here\n');
    await writeFile(path.join(project.dir, 'id.pub'), `${sshKey.allowed.split(' ').slice(1).join(' ')}\n`);
    const secret = execFileSync('gpg', ['--homedir', deploy.home, '--batch', '--armor', '--export-secret-keys', deploy.email], {
      env: { ...process.env, GNUPGHOME: deploy.home },
      encoding: 'utf8',
    });
    await writeFile(path.join(project.dir, 'secret.asc'), secret);
    const text = [
      'version: 1',
      'repos:',
      '  site:',
      `    url: ${remote.url}`,
      '    verify:',
      '      mode: head',
      '      gpg_keys: [deploy.asc, missing.asc, empty.asc, notes.txt, secret.asc]',
      '    pipeline: ["true"]',
      '  ssh:',
      `    url: ${remote.url}`,
      '    checkout: ssh-checkout',
      '    verify: { mode: head, ssh_allowed_signers: id.pub }',
      '    pipeline: ["true"]',
      '',
    ].join('\n');
    await project.writeConfig(text);
    const validate = await project.cli('validate');
    assert.equal(validate.code, 2, validate.stdout + validate.stderr);
    const lines = validate.stderr;
    assert.match(lines, /gitwatch\.yaml:7:30: cannot read key file \S+missing\.asc: no such file \(at repos\.site\.verify\.gpg_keys\[1\]\)/);
    assert.match(lines, /gitwatch\.yaml:7:43: key file \S+empty\.asc has no key: it is empty.* \(at repos\.site\.verify\.gpg_keys\[2\]\)/);
    assert.match(lines, /gitwatch\.yaml:7:54: key file \S+notes\.txt has no key: it holds no OpenPGP public key/);
    assert.match(lines, /gitwatch\.yaml:7:65: key file \S+secret\.asc has no key: it holds a secret key, not a public one/);
    assert.match(lines, /gitwatch\.yaml:12:48: key file \S+id\.pub has no key: line 1 is a public key without principals/);
    assert.doesNotMatch(lines, /key file \S+deploy\.asc/);
    assert.match(lines, /5 problems/);
    // Every command that reads the config says so.
    assert.equal((await project.cli('once')).code, 2);

    // gpg is looked for when a command that checks signatures starts, not by every check.
    await project.writeConfig(text.replace(/gpg_keys: \[[^\]]*\]/, 'gpg_keys: [deploy.asc]').replace(/\n {2}ssh:[\s\S]*$/, '\n'));
    assert.equal((await project.cli('validate')).code, 0);
    const bin = path.join(root, 'bin');
    await mkdir(bin);
    await symlink(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), path.join(bin, 'git'));
    commitSigned(remote, { gpg: deploy });
    const once = await project.cli('once');
    assert.equal(once.code, 0, once.stdout + once.stderr);
    project.env['PATH'] = bin;
    const withoutGpg = await project.cli('once');
    assert.equal(withoutGpg.code, 2, withoutGpg.stdout + withoutGpg.stderr);
    assert.match(
      withoutGpg.stderr,
      /gitwatch\.yaml:5:5: verify needs gpg to check signatures, and it is not on PATH \(Debian: apt-get install gnupg\) \(at repos\.site\.verify\)/,
    );
  });
});
