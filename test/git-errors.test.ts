import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyGitFailure } from '../src/git/classify.js';

const TRAILER = 'fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.';

/** What forges and git servers print, as git relays it on stderr; each with the kind it must be and the line a user sees. */
const CASES: readonly { from: string; stderr: string; kind: string; shows: RegExp }[] = [
  {
    from: 'GitHub, https, wrong token',
    stderr: "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/acme/site.git/'",
    kind: 'auth',
    shows: /authentication refused: Invalid username or password/,
  },
  {
    from: 'GitHub, https, password instead of a token',
    stderr:
      "remote: Support for password authentication was removed on August 13, 2021.\nremote: Please see https://docs.github.com/en/get-started/getting-started-with-git/about-remote-repositories#cloning-with-https-urls for information on currently recommended modes of authentication.\nfatal: Authentication failed for 'https://github.com/acme/site.git/'",
    kind: 'auth',
    shows: /Authentication failed/,
  },
  {
    from: 'GitHub Enterprise, https, password refused',
    stderr:
      "remote: Password authentication is not available for Git operations.\nremote: You must use a personal access token or SSH key.\nremote: See https://ghe.example.com/settings/tokens or https://ghe.example.com/settings/ssh\nfatal: unable to access 'https://ghe.example.com/acme/site.git/': The requested URL returned error: 403",
    kind: 'auth',
    shows: /returned error: 403/,
  },
  {
    from: 'OpenSSH 9.2, a key file others can read (ssh ignores it)',
    stderr:
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\r\n' +
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\nPermissions 0644 for '/etc/gitwatch/deploy_key' are too open.\r\n" +
      'It is required that your private key files are NOT accessible by others.\r\nThis private key will be ignored.\r\n' +
      `Load key "/etc/gitwatch/deploy_key": bad permissions\r\ngit@github.com: Permission denied (publickey).\r\n${TRAILER}`,
    kind: 'auth',
    shows:
      /authentication refused: ssh ignored the key file \/etc\/gitwatch\/deploy_key: its mode 0644 lets other users read it.*chmod 600 \/etc\/gitwatch\/deploy_key$/,
  },
  {
    from: 'GitHub, https, no such repository',
    stderr: "remote: Repository not found.\nfatal: repository 'https://github.com/acme/nope.git/' not found",
    kind: 'not-found',
    shows: /Repository not found/,
  },
  {
    from: 'GitHub, ssh, key refused',
    stderr: `git@github.com: Permission denied (publickey).\n${TRAILER}`,
    kind: 'auth',
    shows: /Permission denied \(publickey\)/,
  },
  { from: 'GitHub, ssh, no such repository', stderr: `ERROR: Repository not found.\n${TRAILER}`, kind: 'not-found', shows: /Repository not found/ },
  {
    from: 'GitHub, https, server error',
    stderr: "fatal: unable to access 'https://github.com/acme/site.git/': The requested URL returned error: 502",
    kind: 'server-error',
    shows: /returned error: 502/,
  },
  {
    from: 'GitLab, https, wrong token',
    stderr:
      "remote: HTTP Basic: Access denied. The provided password or token is incorrect or your account has 2FA enabled and you must use a personal access token instead of a password. See https://gitlab.com/help/topics/git/troubleshooting_git#error-on-git-fetch-http-basic-access-denied\nfatal: Authentication failed for 'https://gitlab.com/acme/site.git/'",
    kind: 'auth',
    shows: /HTTP Basic: Access denied/,
  },
  {
    from: 'GitLab, https, no such project',
    stderr:
      "remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://gitlab.com/acme/site.git/' not found",
    kind: 'not-found',
    shows: /could not be found/,
  },
  {
    from: 'GitLab, ssh, no such project',
    stderr: `remote: \nremote: ========================================================================\nremote: \nremote: The project you were looking for could not be found or you don't have permission to view it.\nremote: \nremote: ========================================================================\nremote: \n${TRAILER}`,
    kind: 'not-found',
    shows: /^checking \S+: repository not found: The project you were looking for could not be found/,
  },
  { from: 'Gitea, ssh, no access', stderr: `Gitea: Unauthorized\n${TRAILER}`, kind: 'auth', shows: /Gitea: Unauthorized/ },
  { from: 'Gitea, ssh, server error', stderr: `Gitea: Internal Server Error\n${TRAILER}`, kind: 'server-error', shows: /Gitea: Internal Server Error/ },
  {
    from: 'Gitea, https, wrong password',
    stderr: "remote: Unauthorized\nfatal: Authentication failed for 'https://gitea.example.com/acme/site.git/'",
    kind: 'auth',
    shows: /Authentication failed/,
  },
  {
    from: 'Gogs, ssh, no such repository',
    stderr: `Gogs: Repository does not exist or you do not have access\nUser  does not have level read access to repository sm/fo.git\n${TRAILER}`,
    kind: 'not-found',
    shows: /Repository does not exist/,
  },
  {
    from: 'a local path that is not a repository',
    stderr: `fatal: '/srv/git/site.git' does not appear to be a git repository\n${TRAILER}`,
    kind: 'not-found',
    shows: /does not appear to be a git repository/,
  },
  {
    from: 'git daemon, path not served',
    stderr: 'fatal: remote error: access denied or repository not exported: /site.git',
    kind: 'not-found',
    shows: /not exported/,
  },
  {
    from: 'git daemon, nothing listening',
    stderr: 'fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n',
    kind: 'unreachable',
    shows: /unable to connect/,
  },
  {
    from: 'https, unknown host',
    stderr: "fatal: unable to access 'https://git.example.invalid/site.git/': Could not resolve host: git.example.invalid",
    kind: 'unreachable',
    shows: /Could not resolve host/,
  },
  {
    from: 'https, connection dropped mid-fetch',
    stderr: 'error: RPC failed; curl 18 transfer closed with outstanding read data remaining\nfatal: early EOF\nfatal: index-pack failed',
    kind: 'server-error',
    shows: /RPC failed/,
  },
  { from: 'ssh, server went away', stderr: 'fatal: the remote end hung up unexpectedly', kind: 'unreachable', shows: /remote end hung up/ },
  {
    from: 'OpenSSH, unknown host key',
    stderr: `No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n${TRAILER}`,
    kind: 'host-key',
    shows: /No ED25519 host key is known .*\(add the host's key/,
  },
  {
    from: 'OpenSSH, changed host key',
    stderr: `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nHost key verification failed.\n${TRAILER}`,
    kind: 'host-key',
    shows: /REMOTE HOST IDENTIFICATION HAS CHANGED/,
  },
  {
    from: 'https, certificate from an unknown CA',
    stderr: "fatal: unable to access 'https://127.0.0.1:8443/site.git/': SSL certificate problem: unable to get local issuer certificate",
    kind: 'tls',
    shows: /SSL certificate problem.*GIT_SSL_CAINFO/,
  },
  {
    from: 'a local remote owned by another user (git 2.39)',
    stderr: `fatal: detected dubious ownership in repository at '/srv/git/site.git'\nTo add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /srv/git/site.git\n${TRAILER}`,
    kind: 'dubious-ownership',
    shows: /repository owned by another user: detected dubious ownership in repository at '\/srv\/git\/site\.git' \(make it owned by the user gitwatch runs as/,
  },
  {
    from: 'a remote with a corrupt loose object (git 2.39)',
    stderr:
      'error: inflate: data stream error (incorrect header check)\nerror: unable to unpack a9c99875c7450faf3c62d3c17f1a8c5a4054a35b header\nfatal: loose object a9c99875c7450faf3c62d3c17f1a8c5a4054a35b (stored in ./objects/a9/c99875c7450faf3c62d3c17f1a8c5a4054a35b) is corrupt\nfatal: the remote end hung up unexpectedly',
    kind: 'corrupt',
    shows: /corrupt object in the remote: loose object a9c99875c745\S* \(stored in .*\) is corrupt \(repair the remote/,
  },
  {
    from: 'a remote missing an object it advertises',
    stderr: 'fatal: did not receive expected object 0c8c0a2cbf7b1f0c5f0fb2a1e54b2b0e4a1c9d11\nfatal: index-pack failed',
    kind: 'corrupt',
    shows: /did not receive expected object/,
  },
  {
    from: 'a pack with a bad object',
    stderr:
      'error: inflate: data stream error (invalid distance too far back)\nfatal: pack has bad object at offset 1234: inflate returned -3\nfatal: index-pack failed',
    kind: 'corrupt',
    shows: /pack has bad object at offset 1234/,
  },
  {
    from: 'a server whose advertisement is not pkt-lines',
    stderr: 'fatal: protocol error: bad line length character: zzzz',
    kind: 'server-error',
    shows: /server error: protocol error: bad line length character: zzzz/,
  },
  {
    from: 'a server whose ref lines are not refs',
    stderr: "fatal: invalid server response; got 'garbage-line'",
    kind: 'server-error',
    shows: /invalid server response/,
  },
];

const PERMANENT = new Set(['auth', 'host-key', 'tls', 'not-found', 'dubious-ownership', 'corrupt']);

describe('git errors', () => {
  for (const c of CASES) {
    test(`${c.from}: ${c.kind}`, () => {
      const error = classifyGitFailure(c.stderr, 'checking https://example.com/site.git');
      assert.equal(error.kind, c.kind);
      assert.equal(error.permanent, PERMANENT.has(c.kind), 'permanent kinds wait for a person; transient ones retry sooner');
      assert.match(error.message, c.shows);
      assert.doesNotMatch(error.message, /\n/, 'one line');
      assert.equal(error.cause, c.stderr.trim(), 'the whole stderr is kept as the cause');
    });
  }

  test('credentials are removed from the message and the cause', () => {
    const error = classifyGitFailure(
      "fatal: unable to access 'https://deploy:s3cret-token@git.example.com/site.git/': Could not resolve host: git.example.com",
      'checking',
    );
    assert.doesNotMatch(`${error.message} ${String(error.cause)}`, /s3cret-token|deploy:/);
    assert.match(String(error.cause), /https:\/\/git\.example\.com\/site\.git/);
  });

  test('an unknown message is kept whole, as a transient failure', () => {
    const error = classifyGitFailure('fatal: something new went wrong\nfatal: and more', 'fetching x');
    assert.equal(error.kind, 'other');
    assert.equal(error.permanent, false);
    assert.equal(error.message, 'fetching x: git failed: something new went wrong');
  });
});
