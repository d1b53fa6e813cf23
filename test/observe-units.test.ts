import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../src/config/parse.js';
import type { NotifyTarget, RepoConfig } from '../src/config/types.js';
import { parseListen } from '../src/http/address.js';
import { verifyPush } from '../src/http/webhook.js';
import { newsOf } from '../src/notify/message.js';
import { masked } from '../src/notify/notifier.js';

const FILE = '/srv/app/gitwatch.yaml';
const parse = (text: string, env: Record<string, string> = {}): ReturnType<typeof parseConfig> =>
  parseConfig(text, { file: 'gitwatch.yaml', absolutePath: FILE, env });

describe('webhook signatures', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const hex = createHmac('sha256', 'sekrit').update(body).digest('hex');
  const cases: [string, Record<string, string>, boolean][] = [
    ['github, right', { 'x-hub-signature-256': `sha256=${hex}` }, true],
    ['github, upper-case hex', { 'x-hub-signature-256': `sha256=${hex.toUpperCase()}` }, true],
    ['github, without the sha256= prefix', { 'x-hub-signature-256': hex }, false],
    ['github, one digit off', { 'x-hub-signature-256': `sha256=${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}` }, false],
    ['github, too short', { 'x-hub-signature-256': `sha256=${hex.slice(2)}` }, false],
    ['github, not hex', { 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }, false],
    ['github wins over a right gitea header', { 'x-hub-signature-256': 'sha256=00', 'x-gitea-signature': hex }, false],
    ['gitea, right', { 'x-gitea-signature': hex }, true],
    ['gitea, wrong', { 'x-gitea-signature': 'ab'.repeat(32) }, false],
    ['gitlab, right', { 'x-gitlab-token': 'sekrit' }, true],
    ['gitlab, a prefix of the secret', { 'x-gitlab-token': 'sekri' }, false],
    ['gitlab, empty', { 'x-gitlab-token': '' }, false],
    ['nothing', {}, false],
  ];
  for (const [name, headers, expected] of cases) test(name, () => assert.equal(verifyPush(headers, body, 'sekrit'), expected));
});

describe('--listen', () => {
  test('takes HOST:PORT, bracketed IPv6 and port 0; refuses the rest', () => {
    assert.deepEqual(parseListen('127.0.0.1:9090'), { ok: true, value: { host: '127.0.0.1', port: 9090 } });
    assert.deepEqual(parseListen('[::1]:0'), { ok: true, value: { host: '::1', port: 0 } });
    assert.deepEqual(parseListen('localhost:80'), { ok: true, value: { host: 'localhost', port: 80 } });
    for (const bad of ['9090', ':9090', 'host:', 'host:65536', 'host:-1', '::1:80', '[zz]:80', 'a_b:80', 'h:80:80', 'h:1e3']) {
      assert.equal(parseListen(bad).ok, false, bad);
    }
  });
});

describe('notify', () => {
  test('recovered is a success right after a failure; interrupted and skipped runs are no news', () => {
    const run = (status: string, previousStatus?: string): Parameters<typeof newsOf>[0] =>
      ({ run: { status }, previousStatus }) as unknown as Parameters<typeof newsOf>[0];
    assert.deepEqual(newsOf(run('succeeded', 'failed')), ['success', 'recovered']);
    assert.deepEqual(newsOf(run('succeeded', 'interrupted')), ['success']);
    assert.deepEqual(newsOf(run('succeeded')), ['success']);
    assert.deepEqual(newsOf(run('failed', 'failed')), ['failure']);
    assert.deepEqual(newsOf(run('interrupted', 'failed')), []);
  });

  test('a URL, its credentials and its interpolated secrets are masked in messages', () => {
    const target: NotifyTarget = { kind: 'url', on: ['failure'], url: 'https://u:p%40ss@hooks.example/T0/abc?token=xyz', format: 'json', secrets: ['xyz'] };
    assert.equal(masked(target, `connect https://u:p%40ss@hooks.example/T0/abc?token=xyz failed; p@ss; xyz`), 'connect *** failed; ***; ***');
  });

  test('config: a repo list replaces the defaults one, URLs interpolate, bad URLs are located errors', () => {
    const text = [
      'version: 1',
      'defaults:',
      '  notify: [{ on: [failure], url: "https://chat.example/hook/${TOKEN}", format: slack }]',
      'repos:',
      '  a: { url: /srv/a, pipeline: [make], webhook_secret: "${HOOK}" }',
      '  b: { url: /srv/b, pipeline: [make], notify: [{ on: [success, recovered], command: "cat > /tmp/x" }] }',
      '  c: { url: /srv/c, pipeline: [make], notify: [] }',
      '',
    ].join('\n');
    const result = parse(text, { TOKEN: 't0k', HOOK: 'h00k' });
    assert.ok(result.ok);
    const [a, b, c] = result.value.repos as RepoConfig[];
    assert.deepEqual(a?.notify, [{ kind: 'url', on: ['failure'], url: 'https://chat.example/hook/t0k', format: 'slack', secrets: ['t0k'] }]);
    assert.equal(a?.webhookSecret, 'h00k');
    assert.deepEqual(b?.notify, [{ kind: 'command', on: ['success', 'recovered'], command: 'cat > /tmp/x' }]);
    assert.equal(b?.webhookSecret, undefined);
    assert.deepEqual(c?.notify, []);

    const bad = parse(
      'version: 1\nrepos:\n  a:\n    url: /srv/a\n    pipeline: [make]\n    notify: [{ on: [failure], url: "ftp://x/${T}" }, { on: [sometimes], command: x }]\n',
      {
        T: 'secret-t',
      },
    );
    assert.equal(bad.ok, false);
    const messages = bad.ok ? [] : bad.error.map((d) => `${d.line}:${d.col}: ${d.message} (at ${d.path})`);
    assert.ok(
      messages.some((m) => /^6:\d+: expected an http:\/\/ or https:\/\/ URL \(at repos\.a\.notify\[0\]\.url\)$/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.includes('notify[1].on[0]')),
      messages.join('\n'),
    );
    assert.ok(messages.every((m) => !m.includes('secret-t')));
    assert.equal(path.basename(FILE), 'gitwatch.yaml');
  });
});
