// The pure parts of `verify:` as tables: what git's raw verify output means (gpg's status lines and
// ssh-keygen's words, as git 2.39 with gpg 2.2 and OpenSSH 9 print them), what a key file must hold, and
// how the config resolves (a repo's own verify, the defaults', a tag mode on a branch), read at its lines.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { readConfigText } from '../src/config/load.js';
import { readSignatureCheck } from '../src/git/signature.js';
import { allowedSignersProblem, gpgKeysProblem } from '../src/rules/key-files.js';
import { tempDir } from './helpers/temp.js';

/** A real public key (ed25519, `gpg --armor --export`), and the start of its secret key block. */
const PUBLIC_KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaVW5ABYJKwYBBAHaRw8BAQdAddux2KEN2zO1FTpK7cLspDs+50bUhm32U/Ds
GOjLMDu0G1VuaXQgPHVuaXRAZXhhbXBsZS5pbnZhbGlkPoiQBBMWCAA4FiEE+TUK
y4ea6cE+rQl5UaZjGUVgbUIFAmlVuQACGwMFCwkIBwIGFQoJCAsCBBYCAwECHgEC
F4AACgkQUaZjGUVgbUJOowEA+bcLBYOJvwAMXgqOu1zWyWQ/eq6UsHMC5TlEvSUn
AbYBAMDEb+Khz8mkboGUhwFRKsUsYKTddUdFGPmIpOASJXUP
=+WJJ
-----END PGP PUBLIC KEY BLOCK-----
`;
const SECRET_KEY = `-----BEGIN PGP PRIVATE KEY BLOCK-----

lFgEaVW5ABYJKwYBBAHaRw8BAQdAddux2KEN2zO1FTpK7cLspDs+50bUhm32U/Ds
-----END PGP PRIVATE KEY BLOCK-----
`;
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7hNm8gAlfGCDTuTKwfBZ80VQqfg5J2zu75TsbVGv9Z';

describe('verify: the pure parts', () => {
  test('git’s raw output: verified, or which way it failed', () => {
    const gpg = (...lines: string[]): string => lines.map((l) => `[GNUPG:] ${l}`).join('\n');
    const cases: [string, number, string, unknown][] = [
      [
        'a good gpg signature',
        0,
        gpg('NEWSIG a@b', 'GOODSIG 751A752D12DEFC88 A <a@b>', 'VALIDSIG 5C0BEA4FE312C291B6527F48751A752D12DEFC88 2026-12-06 1796582358 0 4 0 22 8 00 5C0B'),
        { verified: true, key: 'gpg key 5C0BEA4FE312C291B6527F48751A752D12DEFC88' },
      ],
      ['unsigned (verify-commit prints nothing)', 1, '', { verified: false, problem: 'unsigned', key: undefined }],
      ['an annotated tag without a signature', 1, 'error: no signature found', { verified: false, problem: 'unsigned', key: undefined }],
      [
        'a key not in the keyring',
        1,
        gpg('NEWSIG a@b', 'ERRSIG 751A752D12DEFC88 22 8 00 1796582358 9 5C0B', 'NO_PUBKEY 751A752D12DEFC88'),
        { verified: false, problem: 'unknown-key', key: 'gpg key 751A752D12DEFC88' },
      ],
      [
        'what was signed changed',
        1,
        gpg('NEWSIG a@b', 'BADSIG 751A752D12DEFC88 A <a@b>'),
        { verified: false, problem: 'bad-signature', key: 'gpg key 751A752D12DEFC88' },
      ],
      [
        'an expired key',
        1,
        gpg('KEYEXPIRED 1577923200', 'EXPKEYSIG 131F47C92E0BF869 E <e@x>', 'VALIDSIG E7F1 2020-01-01 1577880000 0 4 0 22 8 00 E7F1'),
        { verified: false, problem: 'expired-key', key: 'gpg key 131F47C92E0BF869' },
      ],
      ['an expired signature', 1, gpg('EXPSIG 131F47C92E0BF869 E <e@x>'), { verified: false, problem: 'expired-signature', key: 'gpg key 131F47C92E0BF869' }],
      ['a revoked key', 1, gpg('REVKEYSIG 131F47C92E0BF869 E <e@x>'), { verified: false, problem: 'revoked-key', key: 'gpg key 131F47C92E0BF869' }],
      [
        'an algorithm gpg does not know',
        1,
        gpg('ERRSIG 131F47C92E0BF869 99 8 00 1796582358 4 -'),
        { verified: false, problem: 'unchecked', key: 'gpg key 131F47C92E0BF869' },
      ],
      [
        'a good ssh signature',
        0,
        'Good "git" signature for signer@example.com with ED25519 key SHA256:MwoFHc8mXaqD8MLPH7cT3m1AJO6yuNov0Vh5JJmZJ5k',
        { verified: true, key: 'SSH key SHA256:MwoFHc8mXaqD8MLPH7cT3m1AJO6yuNov0Vh5JJmZJ5k' },
      ],
      [
        'an ssh key no allowed signer holds',
        1,
        'Good "git" signature with ED25519 key SHA256:a3NopaGsMcEwe7Fyd549vLyOChnyu8OJKdpp0WqepEE\nNo principal matched.',
        { verified: false, problem: 'unknown-key', key: 'SSH key SHA256:a3NopaGsMcEwe7Fyd549vLyOChnyu8OJKdpp0WqepEE' },
      ],
      [
        'an ssh signature that does not fit',
        1,
        'Could not verify signature.\nSignature verification failed: incorrect signature',
        { verified: false, problem: 'bad-signature', key: undefined },
      ],
      [
        'an ssh signer past valid-before',
        1,
        'Good "git" signature with ED25519 key SHA256:MwoF\n/k:1: key has expired: verify time 2026-12-06T18:39:32 > valid-before 2020-01-01T00:00:00\nNo principal matched.',
        { verified: false, problem: 'expired-key', key: 'SSH key SHA256:MwoF' },
      ],
      ['something else', 128, 'fatal: bad object', { verified: false, problem: 'unchecked', key: undefined }],
    ];
    for (const [what, code, raw, expected] of cases) assert.deepEqual(readSignatureCheck(code, raw), expected, what);
  });

  test('a gpg key file holds a public key, armored or binary; anything else says what it holds', () => {
    assert.equal(gpgKeysProblem(Buffer.from(PUBLIC_KEY)), undefined);
    assert.equal(gpgKeysProblem(Buffer.from(`# Alice\n\n${PUBLIC_KEY}\n${PUBLIC_KEY.replace(/\n/g, '\r\n')}`)), undefined, 'two blocks, one with CRLF');
    const binary = Buffer.from(PUBLIC_KEY.split('\n').slice(2, 7).join(''), 'base64');
    assert.equal(gpgKeysProblem(binary), undefined, 'binary, as gpg --export writes it');
    assert.equal(gpgKeysProblem(Buffer.from([0xc6, 0x01, 0x04])), undefined, 'a new-format packet header');
    assert.match(gpgKeysProblem(Buffer.from(SECRET_KEY)) ?? '', /secret key, not a public one/);
    assert.match(gpgKeysProblem(Buffer.alloc(0)) ?? '', /it is empty/);
    assert.match(gpgKeysProblem(Buffer.from(PUBLIC_KEY.slice(0, 200))) ?? '', /cut short/);
    assert.match(gpgKeysProblem(Buffer.from(`${SSH_KEY} me\n`)) ?? '', /an SSH key: use ssh_allowed_signers/);
    assert.match(gpgKeysProblem(Buffer.from('my key goes here\n')) ?? '', /no OpenPGP public key/);
    assert.match(gpgKeysProblem(Buffer.from([0x00, 0x01, 0x02])) ?? '', /no OpenPGP public key/);
  });

  test('an allowed-signers file holds a line with principals and a key', () => {
    assert.equal(allowedSignersProblem(`# deployers\n\ndeploy@example.com ${SSH_KEY}\n`), undefined);
    assert.equal(allowedSignersProblem(`a@x,b@x namespaces="git",valid-before="20300101" ${SSH_KEY} comment\n`), undefined);
    assert.equal(allowedSignersProblem(`*@example.com cert-authority ${SSH_KEY}\n`), undefined);
    assert.match(allowedSignersProblem(`\n${SSH_KEY} me@laptop\n`) ?? '', /^line 2 is a public key without principals/);
    assert.match(allowedSignersProblem('') ?? '', /no allowed-signers line/);
    assert.match(allowedSignersProblem('# only a comment\n') ?? '', /no allowed-signers line/);
    assert.match(allowedSignersProblem(PUBLIC_KEY) ?? '', /a PEM or OpenPGP block/);
    assert.match(allowedSignersProblem('deploy@example.com ssh-ed25519 not-base64!\n') ?? '', /no allowed-signers line/);
  });

  test('the config: a repo’s own verify replaces the defaults’; key files are read once, at their lines', async (t) => {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'keys'));
    await writeFile(path.join(dir, 'keys', 'a.asc'), PUBLIC_KEY);
    await writeFile(path.join(dir, 'keys', 'signers'), `deploy@example.com ${SSH_KEY}\n`);
    const file = path.join(dir, 'gitwatch.yaml');
    const read = (config: unknown, env: Record<string, string> = {}): ReturnType<typeof readConfigText> =>
      readConfigText(stringify(config), { file: 'gitwatch.yaml', absolutePath: file, env });
    const ok = await read(
      {
        version: 1,
        defaults: { verify: { mode: 'head', gpg_keys: ['${KEYS}/a.asc'] } },
        repos: {
          a: { url: '/srv/a', pipeline: ['true'] },
          b: { url: '/srv/b', pipeline: ['true'] },
          c: { url: '/srv/c', tag: 'v*', verify: { mode: 'tag', ssh_allowed_signers: 'keys/signers' }, pipeline: ['true'] },
        },
      },
      { KEYS: 'keys' },
    );
    assert.ok(ok.ok, JSON.stringify(ok));
    const [a, b, c] = ok.value.repos;
    assert.deepEqual(
      a?.verify?.files.map((f) => f.path),
      [path.join(dir, 'keys', 'a.asc')],
    );
    assert.equal(a?.verify?.kind, 'gpg');
    assert.equal(a?.verify?.keys?.contents[0], Buffer.from(PUBLIC_KEY).toString('base64'));
    assert.equal(a?.verify?.keys?.id, b?.verify?.keys?.id, 'the defaults’ keys are one keyring');
    assert.deepEqual([c?.verify?.mode, c?.verify?.kind], ['tag', 'ssh']);
    assert.notEqual(c?.verify?.keys?.id, a?.verify?.keys?.id);

    const bad = await read({
      version: 1,
      defaults: { verify: { mode: 'tag', gpg_keys: ['keys/missing.asc'] } },
      repos: { a: { url: '/srv/a', pipeline: ['true'] }, b: { url: '/srv/b', pipeline: ['true'] } },
    });
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.error.map((d) => `${d.line}:${d.col} ${d.path}: ${d.message}`),
      [
        "8:3 repos.a: defaults.verify has mode 'tag', which checks the tag a 'tag:' repo follows; repo 'a' follows a branch (give it a verify with mode: head)",
        "12:3 repos.b: defaults.verify has mode 'tag', which checks the tag a 'tag:' repo follows; repo 'b' follows a branch (give it a verify with mode: head)",
      ],
      'the config is checked before its files are read',
    );
    const missing = await read({
      version: 1,
      defaults: { verify: { mode: 'head', gpg_keys: ['keys/missing.asc'] } },
      repos: { a: { url: '/srv/a', pipeline: ['true'] }, b: { url: '/srv/b', pipeline: ['true'] } },
    });
    assert.ok(!missing.ok);
    assert.deepEqual(
      missing.error.map((d) => `${d.line}:${d.col} ${d.path}: ${d.message}`),
      [`6:9 defaults.verify.gpg_keys[0]: cannot read key file ${path.join(dir, 'keys', 'missing.asc')}: no such file`],
      'said once, though two repos use it',
    );
  });
});
