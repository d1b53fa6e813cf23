import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { privateCa, startHttpGit } from './helpers/http-git.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { sshdMissing, startSshd } from './helpers/sshd.js';
import { tempDir } from './helpers/temp.js';

/** Every file under `dir`, as text. */
async function allText(dir: string): Promise<string> {
  let out = '';
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out += await readFile(path.join(entry.parentPath, entry.name), 'utf8').catch(() => '');
  }
  return out;
}

/** Command lines of every process on the machine (any local user can read these). */
async function allCommandLines(): Promise<string> {
  let out = '';
  for (const pid of await readdir('/proc')) {
    if (/^\d+$/.test(pid)) out += `${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}\n`;
  }
  return out;
}

describe('hostile config values are rejected before any git process starts', () => {
  const cases: readonly (readonly [string, Record<string, unknown>, RegExp])[] = [
    ['url as --upload-pack', { url: '--upload-pack=touch MARK' }, /url may not start with '-'/],
    ['url as -o option', { url: '-oProxyCommand=touch MARK' }, /url may not start with '-'/],
    ['ext:: transport', { url: 'ext::sh -c touch% MARK' }, /'ext::' transport is not allowed/],
    ['fd:: transport', { url: 'fd::17' }, /'fd::' transport is not allowed/],
    ['any name:: helper', { url: 'evil::whatever' }, /'evil::' transport is not allowed/],
    ['ssh host as an option', { url: 'ssh://-oProxyCommand=touch$${IFS}MARK/x' }, /host in url may not start with '-'/],
    ['ssh user as an option', { url: 'ssh://-oProxyCommand=x@host/x' }, /user in url may not start with '-'/],
    ['scp-like url as an option', { url: '-oProxyCommand=x@host:path' }, /url may not start with '-'/],
    ['ftp transport', { url: 'ftp://example.com/x.git' }, /'ftp:\/\/' transport is not allowed/],
    ['url with a line break', { url: 'https://example.com/x\n--upload-pack=touch MARK' }, /control character/],
    ['url with a NUL', { url: 'https://example.com/x\u0000y' }, /control character/],
    ['over-long url', { url: `https://example.com/${'a'.repeat(3000)}` }, /longer than 2048/],
    ['url option through an environment variable', { url: '${EVIL_URL}' }, /url may not start with '-'/],
    ['branch as an option', { branch: '--orphan' }, /may not start with '-'/],
    ['branch as a short option', { branch: '-b' }, /may not start with '-'/],
    ['branch with ..', { branch: 'a..b' }, /may not contain '\.\.'/],
    ['branch with a space and a command', { branch: 'main; touch MARK' }, /contains a space/],
    ['branch with a control character', { branch: 'main\u0007' }, /control character/],
    ['branch with a line break', { branch: 'main\ntouch MARK' }, /control character/],
    ['over-long branch', { branch: 'b'.repeat(300) }, /longer than 255/],
    ['branch as a full ref', { branch: 'refs/heads/main' }, /without 'refs\/heads\/'/],
  ];
  for (const [name, repo, expected] of cases) {
    test(name, async (t) => {
      const project = await makeProject(t);
      const marker = path.join(project.dir, 'MARK');
      project.env['EVIL_URL'] = `--upload-pack=touch ${marker}`;
      const raw = JSON.stringify({ version: 1, repos: { site: { url: '/nonexistent', ...repo, pipeline: [`touch ${marker}`] } } }).replaceAll('MARK', marker);
      await project.writeConfig(JSON.parse(raw));
      const result = await project.cli('once');
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(existsSync(marker), false, 'an injected command ran');
      assert.equal(existsSync(path.join(project.dir, '.gitwatch')), false, 'something ran before the config was rejected');
    });
  }
});

async function markerProject(
  t: import('node:test').TestContext,
  remote: TestRepo,
  extra: Record<string, unknown> = {},
): Promise<{ project: Project; marker: string }> {
  const project = await makeProject(t);
  const marker = path.join(project.dir, 'MARK');
  await project.writeConfig({ version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP], ...extra } } });
  return { project, marker };
}

describe('names a remote advertises never reach git or a shell', () => {
  test('a branch name that looks like a command is passed on as data only', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const { project, marker } = await markerProject(t, remote);
    const evil = `x$(touch\${IFS}${marker})`;
    remote.git('checkout', '-q', '-b', evil);
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await project.state()).repos['site']?.branch, evil);
    assert.equal(existsSync(marker), false);
  });

  test('a default branch that git itself would reject fails the check', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const { project, marker } = await markerProject(t, remote);
    remote.git('update-ref', 'refs/heads/-upload-pack=touch', 'HEAD');
    remote.git('symbolic-ref', 'HEAD', 'refs/heads/-upload-pack=touch');
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /default branch name is invalid: it may not start with '-'/);
    assert.equal(existsSync(marker), false);
  });

  test('a configured branch that a remote shell would read as a command is only ever a ref name', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const { project, marker } = await markerProject(t, remote);
    await project.writeConfig({ version: 1, repos: { site: { url: remote.url, branch: `$(touch$\${IFS}${marker})`, pipeline: ['true'] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /not found on the remote/);
    assert.equal(existsSync(marker), false);
  });
});

describe('a step that tampers with the checkout cannot steer gitwatch', () => {
  const tamper = (marker: string, elsewhere: string): string[] => [
    // .git/config: fsmonitor, hooks, includes, helpers and redirections that would run code or switch remotes.
    `cat > .git/config <<EOF
[core]
\tfsmonitor = touch ${marker}.fsmonitor
\thooksPath = ${path.dirname(marker)}/hooks
\tsshCommand = touch ${marker}.ssh
\tpager = touch ${marker}.pager
[include]
\tpath = ${path.dirname(marker)}/included.cfg
[protocol "ext"]
\tallow = always
[remote "origin"]
\turl = ${elsewhere}
[url "${elsewhere}"]
\tinsteadOf = file://
[filter "evil"]
\tsmudge = touch ${marker}.smudge
EOF`,
    `mkdir -p .git/hooks ${path.dirname(marker)}/hooks && for h in post-checkout reference-transaction pre-auto-gc post-index-change; do printf '#!/bin/sh\\ntouch ${marker}.hook\\n' > .git/hooks/$h; cp .git/hooks/$h ${path.dirname(marker)}/hooks/$h; chmod +x .git/hooks/$h ${path.dirname(marker)}/hooks/$h; done`,
    `printf '[core]\\n\\tfsmonitor = touch ${marker}.include\\n' > ${path.dirname(marker)}/included.cfg`,
    'echo "* filter=evil" > .gitattributes',
  ];

  test('rewritten .git/config and .git/hooks run nothing, and the next fetch still uses the configured URL', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const other = await TestRepo.create(path.join(root, 'other'));
    const project = await makeProject(t);
    const marker = path.join(project.dir, 'MARK');
    await project.writeConfig({ version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP, ...tamper(marker, other.url)] } } });
    assert.equal((await project.cli('once')).code, 0);
    const sha = await remote.commit({ 'app.txt': 'v2\n' });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(
      (await project.record()).some((l) => l.startsWith(`site ${sha} `)),
      'the new commit did not come from the configured remote',
    );
    const markers = (await readdir(project.dir)).filter((f) => f.startsWith('MARK'));
    assert.deepEqual(markers, [], `injected commands ran: ${markers.join(', ')}`);
  });

  test('a .git replaced by a link or a gitfile is rebuilt', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t);
    const elsewhere = path.join(root, 'elsewhere');
    await mkdir(elsewhere);
    await project.writeConfig({ version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP, `rm -rf .git && ln -s ${elsewhere} .git`] } } });
    assert.equal((await project.cli('once')).code, 0);
    await remote.commit();
    await project.writeConfig({
      version: 1,
      repos: { site: { url: remote.url, pipeline: [RECORD_STEP, `rm -rf .git && echo "gitdir: ${elsewhere}" > .git`, 'true'] } },
    });
    assert.equal((await project.cli('once')).code, 0);
    await remote.commit();
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readdir(elsewhere), []);
    assert.equal((await project.record()).length, 3);
  });
});

describe("gitwatch's own environment does not redirect its git commands", () => {
  test('GIT_DIR, GIT_SSH_COMMAND, GIT_CONFIG_PARAMETERS and friends are ignored', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const other = await TestRepo.create(path.join(root, 'other'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: [RECORD_STEP] } } });
    const marker = path.join(project.dir, 'MARK');
    Object.assign(project.env, {
      GIT_DIR: path.join(other.dir, '.git'),
      GIT_WORK_TREE: other.dir,
      GIT_SSH_COMMAND: `touch ${marker}.ssh`,
      GIT_CONFIG_PARAMETERS: `'core.fsmonitor'='touch ${marker}.params'`,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'core.hooksPath',
      GIT_CONFIG_VALUE_0: path.join(root, 'hooks'),
      GIT_EXEC_PATH: path.join(root, 'no-such-folder'),
      GIT_TEMPLATE_DIR: path.join(root, 'templates'),
      GIT_ASKPASS: `${marker}.askpass`,
      GIT_ALLOW_PROTOCOL: 'ext',
      EDITOR: `touch ${marker}.editor`,
    });
    const result = await project.cli('once');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok((await project.record()).some((l) => l.startsWith(`site ${remote.head()} `)));
    assert.deepEqual(
      (await readdir(project.dir)).filter((f) => f.startsWith('MARK')),
      [],
    );
  });
});

describe('credentials in a URL', () => {
  test('work against git http-backend behind basic auth and never show up anywhere', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'served', 'site'));
    const token = `tok-${Date.now()}-secret`;
    let leakedOnCommandLine = false;
    const http = await startHttpGit(t, {
      root: path.join(root, 'served'),
      user: 'deploy-bot',
      password: token,
      onRequest: async () => {
        // git is waiting for this answer: its processes and helpers are alive now.
        if ((await allCommandLines()).includes(token)) leakedOnCommandLine = true;
      },
    });
    const project = await makeProject(t);
    Object.assign(project.env, { GW_USER: 'deploy-bot', GW_TOKEN: token });
    const url = http.url('site').replace('http://', 'http://${GW_USER}:${GW_TOKEN}@');
    await project.writeConfig({
      version: 1,
      repos: { site: { url, pipeline: ['env > "$RECORD.env"; echo "$GITWATCH_URL" >> "$RECORD"', 'echo "token in step: ${GW_TOKEN:-none}"'] } },
    });
    const first = await project.cli('-v', 'once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    await remote.commit();
    const second = await project.cli('-v', 'once');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.ok(http.requests() >= 4, 'the remote was not used');
    assert.match(second.stdout, /token in step: none/);

    const status = await project.cli('status');
    const statusJson = await project.cli('status', '--json');
    const places: Record<string, string> = {
      output: first.stdout + first.stderr + second.stdout + second.stderr,
      status: status.stdout + statusJson.stdout,
      'state and logs': await allText(project.dir),
    };
    for (const [where, text] of Object.entries(places)) assert.equal(text.includes(token), false, `the token appears in ${where}`);
    assert.equal(leakedOnCommandLine, false, 'the token appeared on a process command line');
    assert.equal((await project.state()).repos['site']?.url, http.url('site'));
    assert.deepEqual(await project.record(), [http.url('site'), http.url('site')]);

    // A wrong token is refused, reported as such, and still not shown.
    project.env['GW_TOKEN'] = 'wrong-token-value';
    await remote.commit();
    const refused = await project.cli('once');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /authentication refused/);
    assert.equal((refused.stdout + refused.stderr).includes('wrong-token-value'), false);
  });
});

describe('SSH', () => {
  test('ssh_key and known_hosts reach a real sshd; an unknown host key fails with a clear message', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'site'));
    const sshd = await startSshd(t, path.join(root, 'sshd'));
    const project = await makeProject(t, {
      version: 1,
      defaults: { ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts },
      repos: { site: { url: sshd.url(remote.dir), pipeline: [RECORD_STEP] } },
    });
    // Its SSH master's control folder goes to a TMPDIR of its own, where no other test counts them.
    project.env['TMPDIR'] = await tempDir(t, 'gitwatch-tmpdir-');
    const first = await project.cli('once');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const sha = await remote.commit();
    assert.equal((await project.cli('once')).code, 0);
    assert.ok((await project.record()).some((l) => l.startsWith(`site ${sha} `)));

    const empty = path.join(root, 'empty_known_hosts');
    await writeFile(empty, '');
    await project.writeConfig({
      version: 1,
      repos: { site: { url: sshd.url(remote.dir), ssh_key: sshd.clientKey, known_hosts: empty, pipeline: [RECORD_STEP] } },
    });
    await remote.commit();
    const unknown = await project.cli('once');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stdout, /host key check failed: .*(Host key verification failed|host key is known).*known_hosts/);
    assert.equal(existsSync(path.join(root, '.ssh')), false);
  });
});

describe('files gitwatch creates for itself', () => {
  test('are readable by their owner only', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: remote.url, pipeline: ['sleep 1'] } } });
    const { stat } = await import('node:fs/promises');
    const run = project.cli('once');
    const pidFile = `${project.statePath}.pid`;
    const until = Date.now() + 10_000;
    while (!existsSync(pidFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await stat(pidFile)).mode & 0o077, 0, 'the pid file');
    assert.equal((await run).code, 0);
    assert.equal((await stat(project.statePath)).mode & 0o077, 0, 'the state');
    const workdir = path.join(project.dir, '.gitwatch');
    for (const dir of ['logs', '.git-store']) assert.equal((await stat(path.join(workdir, dir))).mode & 0o077, 0, dir);
    for (const entry of await readdir(path.join(workdir, 'logs'), { recursive: true, withFileTypes: true })) {
      assert.equal((await stat(path.join(entry.parentPath, entry.name))).mode & 0o077, 0, entry.name);
    }
  });
});

describe('a private certificate authority', () => {
  test('GIT_SSL_CAINFO reaches git, so an https remote signed by a private CA works; without it the check says why', async (t) => {
    const { caCert, tls } = await privateCa();
    const root = await tempDir(t);
    await TestRepo.create(path.join(root, 'served', 'site'));
    const caFile = path.join(root, 'ca.pem');
    await writeFile(caFile, caCert);
    const https = await startHttpGit(t, { root: path.join(root, 'served'), user: 'u', password: 'p', tls });
    const project = await makeProject(t);
    await project.writeConfig({ version: 1, repos: { site: { url: https.url('site').replace('https://', 'https://u:p@'), pipeline: ['true'] } } });

    const untrusted = await project.cli('once');
    assert.equal(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
    assert.match(untrusted.stdout, /TLS certificate check failed: .*certificate.*GIT_SSL_CAINFO/);

    project.env['GIT_SSL_CAINFO'] = caFile;
    const trusted = await project.cli('once');
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    assert.equal((await project.state()).repos['site']?.lastRun?.status, 'succeeded');
  });
});
