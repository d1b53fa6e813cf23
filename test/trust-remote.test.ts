// What gitwatch trusts when it talks to a remote: TLS exactly as git verifies it, whatever Node's own
// environment says.

import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startFloodingRemote } from './helpers/flood.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { privateCa, selfSignedTls, startHttpGit } from './helpers/http-git.js';
import { makeProject } from './helpers/project.js';
import { sshdMissing, startSshd } from './helpers/sshd.js';
import { tempDir } from './helpers/temp.js';

describe('TLS is verified as git verifies it', () => {
  /** A real https remote that git does not trust, behind basic auth: it counts every request that arrives. */
  async function untrustedRemote(t: import('node:test').TestContext, tls: { key: string; cert: string }) {
    const root = await tempDir(t);
    await TestRepo.create(path.join(root, 'served', 'site'));
    const https = await startHttpGit(t, { root: path.join(root, 'served'), user: 'deploy', password: 'tls-token-value', tls });
    const project = await makeProject(t);
    project.env['GW_TOKEN'] = 'tls-token-value';
    // OpenSSL's and Node's own trust settings (a CI machine may set them) would send every check to git.
    for (const name of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS']) delete project.env[name];
    await project.writeConfig({
      version: 1,
      repos: { site: { url: https.url('site').replace('https://', 'https://deploy:${GW_TOKEN}@'), pipeline: ['true'] } },
    });
    return { root, https, project };
  }

  test('NODE_TLS_REJECT_UNAUTHORIZED=0 sends no token to a self-signed server', async (t) => {
    const { https, project } = await untrustedRemote(t, await selfSignedTls());
    project.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /TLS certificate check failed/);
    assert.equal(https.requests(), 0, 'the server received the token');
    assert.equal(https.denied(), 0, 'a request reached the server');
  });

  test('NODE_EXTRA_CA_CERTS is not trusted: git does not read it', async (t) => {
    const { caCert, tls } = await privateCa();
    const { root, https, project } = await untrustedRemote(t, tls);
    const caFile = path.join(root, 'ca.pem');
    await writeFile(caFile, caCert);
    project.env['NODE_EXTRA_CA_CERTS'] = caFile;
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /TLS certificate check failed/);
    assert.equal(https.requests(), 0, 'the server received the token');
  });

  test('GIT_SSL_NO_VERIFY turns verification off as in git, with a warning at start', async (t) => {
    const { https, project } = await untrustedRemote(t, await selfSignedTls());
    project.env['GIT_SSL_NO_VERIFY'] = '1';
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /warning: GIT_SSL_NO_VERIFY is set: .*certificates .*not verified/);
    assert.ok(https.requests() > 0, 'the remote was not used');
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'succeeded');
  });

  /** The operator's global git config, as git finds it (GIT_CONFIG_GLOBAL stands for ~/.gitconfig). */
  async function globalGitConfig(root: string, project: { env: Record<string, string> }, text: string): Promise<void> {
    const file = path.join(root, 'gitconfig');
    await writeFile(file, text);
    project.env['GIT_CONFIG_GLOBAL'] = file;
  }

  test("http.sslVerify=false for the remote in git's config turns verification off as in git, with a warning", async (t) => {
    const { root, https, project } = await untrustedRemote(t, await selfSignedTls());
    await globalGitConfig(root, project, `[http "${new URL(https.url('site')).origin}/"]\n\tsslVerify = false\n`);
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /warning: http\.sslVerify is false in git's config for site: their TLS certificates are not verified/);
    assert.ok(https.requests() > 0, 'the remote was not used');
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'succeeded');
  });

  test("http.sslVerify=false for another URL in git's config changes nothing", async (t) => {
    const { root, https, project } = await untrustedRemote(t, await selfSignedTls());
    await globalGitConfig(root, project, '[http "https://elsewhere.invalid/"]\n\tsslVerify = false\n[http]\n\tsslVerify = true\n');
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /TLS certificate check failed/);
    assert.doesNotMatch(result.stderr, /sslVerify/);
    assert.equal(https.requests(), 0, 'the server received the token');
  });
});

describe('a remote that never stops advertising refs', () => {
  for (const kind of ['http', 'git'] as const) {
    test(`fails the check with the reason, without handing the flood to git (${kind}://)`, async (t) => {
      const remote = await startFloodingRemote(t, kind);
      // Long enough for a loaded machine to read what the caps allow; the failure must say why, not time out.
      const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, git_timeout: '40s', pipeline: ['true'] } } });
      const result = await project.cli('once');
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, /site ✖ check failed: checking .*: the remote sends too much: /);
      assert.deepEqual(
        remote.userAgents.filter((ua) => ua !== 'git/gitwatch'),
        [],
        'git was asked after gitwatch had read too much',
      );
    });
  }
});

describe('an ssh_key that ssh ignores', () => {
  test('says that ssh refused the key file for its permissions, and how to fix it', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const sshd = await startSshd(t, path.join(root, 'sshd'));
    await chmod(sshd.clientKey, 0o644);
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: sshd.url(remote.dir), ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts, pipeline: ['true'] } },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const line = result.stdout.split('\n').find((l) => l.startsWith('site ✖ check failed')) ?? result.stdout;
    assert.ok(line.includes(`ssh ignored the key file ${sshd.clientKey}: its mode 0644 lets other users read it`), line);
    assert.ok(line.includes(`chmod 600 ${sshd.clientKey}`), line);
  });
});
