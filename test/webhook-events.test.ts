// Webhooks that know their events (SPEC, `--listen`): only push and tag events start a check; a GitHub
// ping gets 200 and other events 204, starting nothing; a delivery id seen in the last hour gets 200 and
// starts nothing. The signature is checked first, then the event type, then the delivery id.
//
// "Starts nothing" is proven by counting checks, not by sleeping: after the deliveries under test, one
// push that does start a check; once the repo is idle again, exactly one more check has happened. A poke
// during a check is never lost (it checks again after), so any extra start would show as a second check.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startDaemon } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { listeningUrl, send, sign } from './helpers/listen.js';
import { makeProject, type Project } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';
import { RecentDeliveries } from '../src/http/deliveries.js';
import { hookEvent } from '../src/http/webhook.js';

const SECRET = 'hook-events-secret-3390';

type Forge = 'github' | 'gitea' | 'gitlab';

/** A delivery as each forge sends it: its signature, its event header and its delivery id. */
function delivery(forge: Forge, event: string, id: string | undefined, body = '{"ref":"refs/heads/main"}', secret = SECRET): Parameters<typeof send>[1] {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forge === 'github') {
    headers['x-hub-signature-256'] = `sha256=${sign(secret, body)}`;
    headers['x-github-event'] = event;
    if (id !== undefined) headers['x-github-delivery'] = id;
  }
  if (forge === 'gitea') {
    // Gitea sends its own headers and GitHub's alike.
    headers['x-gitea-signature'] = sign(secret, body);
    headers['x-gitea-event'] = event;
    headers['x-github-event'] = event;
    if (id !== undefined) headers['x-gitea-delivery'] = headers['x-github-delivery'] = id;
  }
  if (forge === 'gitlab') {
    headers['x-gitlab-token'] = secret;
    headers['x-gitlab-event'] = event;
    if (id !== undefined) headers['x-gitlab-event-uuid'] = id;
  }
  return { method: 'POST', headers, body };
}

async function checks(base: string): Promise<number> {
  const answer = await send(`${base}/metrics`);
  const family = parsePrometheusTextFormat(answer.body).find((f) => f.name === 'gitwatch_checks_total');
  const ok = family?.metrics.find((m) => m.labels?.['repo'] === 'site' && m.labels['result'] === 'ok');
  return Number(ok?.value ?? NaN);
}

async function phase(project: Project): Promise<string | null | undefined> {
  const result = await project.cli('status', '--json');
  return (JSON.parse(result.stdout) as { repos: { name: string; phase: string | null }[] }).repos.find((r) => r.name === 'site')?.phase;
}

describe('webhook events', () => {
  test('ping 200, other events 204, a repeated delivery 200: none starts a check; pushes and tags do, once each', async (t) => {
    const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: { site: { url: remote.url, interval: '1h', webhook_secret: '${HOOK_SECRET}', pipeline: ['true'] } },
    });
    project.env['HOOK_SECRET'] = SECRET;
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    const hook = `${base}/hooks/site`;
    await daemon.until(async () => (await checks(base)) === 1 && (await phase(project)) === 'idle', 'the first check');
    let counted = 1;

    /** Sends each delivery and compares the answers; then whether the repo was checked, and how often. */
    const expect = async (what: string, sent: [Parameters<typeof send>[1], number][], started: 0 | 1): Promise<void> => {
      const answers = [];
      for (const [options] of sent) answers.push((await send(hook, options)).status);
      assert.deepEqual(
        answers,
        sent.map(([, status]) => status),
        what,
      );
      // The barrier: a push with an id of its own, which starts exactly one check.
      if (started === 0) assert.equal((await send(hook, delivery('github', 'push', `barrier-${counted}`))).status, 202, `${what}: the barrier`);
      await daemon.until(async () => (await checks(base)) > counted && (await phase(project)) === 'idle', `${what}: the check`);
      const now = await checks(base);
      assert.equal(now, counted + 1, `${what}: ${now - counted} checks, one expected`);
      counted = now;
    };

    await expect('a GitHub ping', [[delivery('github', 'ping', 'ping-1', '{"zen":"Keep it logically awesome."}'), 200]], 0);
    await expect(
      'other event types',
      [
        [delivery('github', 'issues', 'issue-1'), 204],
        [delivery('github', 'create', 'branch-1', '{"ref":"feature","ref_type":"branch"}'), 204],
        [delivery('gitea', 'pull_request', 'pr-1'), 204],
        [delivery('gitlab', 'Merge Request Hook', 'mr-1'), 204],
        [delivery('gitlab', 'Note Hook', undefined), 204],
      ],
      0,
    );
    await expect(
      'the signature comes first',
      [
        [delivery('github', 'ping', 'ping-2', '{}', 'wrong'), 401],
        [delivery('github', 'issues', 'issue-2', '{}', 'wrong'), 401],
        [delivery('gitlab', 'Push Hook', 'bad-1', '{}', 'wrong'), 401],
      ],
      0,
    );

    // Pushes and tags, from each forge; each starts one check, and its id is remembered.
    await expect('a GitHub push', [[delivery('github', 'push', 'gh-1'), 202]], 1);
    await expect('a GitHub tag', [[delivery('github', 'create', 'gh-2', '{"ref":"v1.0.0","ref_type":"tag"}'), 202]], 1);
    await expect('a Gitea push', [[delivery('gitea', 'push', 'gt-1'), 202]], 1);
    await expect('a Gitea tag', [[delivery('gitea', 'create', 'gt-2', '{"ref":"v1.0.0","ref_type":"tag"}'), 202]], 1);
    await expect('a GitLab push', [[delivery('gitlab', 'Push Hook', 'gl-1'), 202]], 1);
    await expect('a GitLab tag push', [[delivery('gitlab', 'Tag Push Hook', 'gl-2'), 202]], 1);

    await expect(
      'repeated deliveries',
      [
        [delivery('github', 'push', 'gh-1'), 200],
        [delivery('github', 'create', 'gh-2', '{"ref":"v1.0.0","ref_type":"tag"}'), 200],
        [delivery('gitea', 'push', 'gt-1'), 200],
        [delivery('gitlab', 'Push Hook', 'gl-1'), 200],
        [delivery('gitlab', 'Tag Push Hook', 'gl-2'), 200],
        // A repeat with a bad signature is refused as such: the signature comes before the id.
        [delivery('github', 'push', 'gh-1', '{}', 'wrong'), 401],
      ],
      0,
    );

    // Ids of deliveries that started nothing are not remembered: the same id on a push starts a check.
    await expect('a push with the id of a ping', [[delivery('github', 'push', 'ping-1'), 202]], 1);
    await expect('a push with the id of another event', [[delivery('gitlab', 'Push Hook', 'mr-1'), 202]], 1);
    // A signed request without an event header (a hand-made curl) counts as a push.
    await expect('no event header', [[{ method: 'POST', headers: { 'x-hub-signature-256': `sha256=${sign(SECRET, '{}')}` }, body: '{}' }, 202]], 1);

    assert.doesNotMatch(daemon.stdout() + daemon.stderr(), new RegExp(SECRET));
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  });

  test('the events of each forge, by their headers (and a create by its ref_type, JSON or form-encoded)', () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ 'x-github-event': 'push' }, '{}', 'push'],
      [{ 'x-github-event': 'ping' }, '{}', 'ping'],
      [{ 'x-github-event': 'create' }, '{"ref_type":"tag"}', 'push'],
      [{ 'x-github-event': 'create', 'content-type': 'application/x-www-form-urlencoded' }, `payload=${encodeURIComponent('{"ref_type":"tag"}')}`, 'push'],
      [{ 'x-github-event': 'create' }, '{"ref_type":"branch"}', 'other'],
      [{ 'x-github-event': 'create' }, 'not json', 'other'],
      [{ 'x-github-event': 'release' }, '{}', 'other'],
      [{ 'x-gitea-event': 'push', 'x-github-event': 'push' }, '{}', 'push'],
      [{ 'x-gitea-event': 'create' }, '{"ref_type":"tag"}', 'push'],
      [{ 'x-gitea-event': 'issues' }, '{}', 'other'],
      [{ 'x-gitlab-event': 'Push Hook' }, '{}', 'push'],
      [{ 'x-gitlab-event': 'Tag Push Hook' }, '{}', 'push'],
      [{ 'x-gitlab-event': 'Pipeline Hook' }, '{}', 'other'],
      [{ 'x-gitlab-event': 'push' }, '{}', 'push'],
      [{}, '{}', 'push'],
    ];
    for (const [headers, body, expected] of cases) assert.equal(hookEvent(headers, Buffer.from(body)), expected, JSON.stringify(headers));
  });

  test('delivery ids are remembered for an hour, per repo, and at most 10,000 of them', () => {
    let now = 0;
    const seen = new RecentDeliveries(() => now);
    seen.add('site', 'a');
    now += 59 * 60_000;
    assert.equal(seen.has('site', 'a'), true);
    assert.equal(seen.has('docs', 'a'), false, 'another repo');
    now += 60_000;
    assert.equal(seen.has('site', 'a'), false, 'after an hour');
    assert.equal(seen.size, 0);
    for (let i = 0; i < 10_050; i++) seen.add('site', `id-${i}`);
    assert.equal(seen.size, 10_000);
    assert.equal(seen.has('site', 'id-49'), false, 'the oldest went first');
    assert.equal(seen.has('site', 'id-50'), true);
    assert.equal(seen.has('site', 'x'.repeat(100_000)), false);
  });
});
