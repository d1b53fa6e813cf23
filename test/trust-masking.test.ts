// Secrets masked in step output: every value that a secret field took from `${VAR}`, and any of those
// variables an `env:` passes to a step on purpose, shows as `***` wherever step output goes (plain and
// JSON output, run logs, `gitwatch logs`, failure tails, notification bodies), also when a step writes it
// in two pieces. Values shorter than 4 characters are left alone.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { startReceiver } from './helpers/receiver.js';
import { tempDir } from './helpers/temp.js';

const SECRETS = {
  HOOK_SECRET: 'hook-secret-value-4821',
  OTHER_TOKEN: 'other-token-9317',
  NOTIFY_TOKEN: 'notify-token-5064',
  // Shorter than 4 characters: not masked (masking "a" would wreck the output).
  SHORT_TOKEN: 'x9z',
};
const LONG = [SECRETS.HOOK_SECRET, SECRETS.OTHER_TOKEN, SECRETS.NOTIFY_TOKEN];

/** The secret whole, in two writes 0.2 s apart (two output chunks), on stderr, and the short one. */
const SHOW = [
  `printf 'whole=%s\\n' "$S"`,
  `printf 'split=%s' "\${S%????}"; sleep 0.2; printf '%s\\n' "\${S#"\${S%????}"}"`,
  `printf 'cred=%s notify=%s short=%s\\n' "$C" "$N" "$SHORT"`,
  `printf 'err=%s\\n' "$S" >&2`,
  // Output that equals a secret's value however the step came by it is masked too: masking goes by value.
  `printf 'literal=%s-%s\\n' other-token 9317`,
  'exit 3',
].join('; ');

const EXPECTED = ['whole=***', 'split=***', 'cred=*** notify=*** short=x9z', 'err=***', 'literal=***'];

function assertMasked(text: string, where: string, expected = EXPECTED): void {
  const leaked = LONG.filter((s) => text.includes(s));
  assert.deepEqual(leaked, [], `${where}: these secrets show\n${text}`);
  // No fragment of the split one either: its first part alone would give most of it away.
  assert.doesNotMatch(text, /hook-secret-val/, `${where}: a piece of the secret shows`);
  for (const line of expected) assert.ok(text.includes(line), `${where}: '${line}' is missing\n${text}`);
}

describe('secrets in step output', () => {
  test('show as *** in plain and JSON output, run logs, logs, failure tails and notifications', async (t) => {
    const root = await tempDir(t);
    const site = await TestRepo.create(path.join(root, 'site'));
    const receiver = await startReceiver(t);
    const project = await makeProject(t);
    Object.assign(project.env, SECRETS);
    const env = { S: '${HOOK_SECRET}', C: '${OTHER_TOKEN}', N: '${NOTIFY_TOKEN}', SHORT: '${SHORT_TOKEN}' };
    await project.writeConfig({
      version: 1,
      defaults: {
        notify: [
          { on: ['failure'], url: `${receiver.url}/json/\${NOTIFY_TOKEN}?s=\${SHORT_TOKEN}` },
          { on: ['failure'], url: `${receiver.url}/slack/\${NOTIFY_TOKEN}`, format: 'slack' },
        ],
      },
      repos: {
        site: { url: site.url, webhook_secret: '${HOOK_SECRET}', env, pipeline: [{ name: 'show', run: SHOW }] },
        multi: { url: site.url, env, jobs: { build: { steps: [{ name: 'show', run: SHOW }] } } },
        // Another repo's URL credentials are secrets too.
        other: { url: 'https://ci:${OTHER_TOKEN}@example.invalid/other.git', enabled: false, pipeline: ['true'] },
      },
    });

    // Plain output, every line.
    const verbose = await project.cli('once', '-v');
    assert.equal(verbose.code, 1, verbose.stdout + verbose.stderr);
    assertMasked(verbose.stdout + verbose.stderr, 'once -v');

    // The run logs (the run's own and a job's), and what `gitwatch logs` prints of them.
    const logDir = path.join(project.dir, '.gitwatch', 'logs');
    const siteLogs = (await readdir(path.join(logDir, 'site'))).filter((f) => f.endsWith('.log'));
    assert.equal(siteLogs.length, 1);
    assertMasked(await readFile(path.join(logDir, 'site', siteLogs[0] ?? ''), 'utf8'), 'the run log');
    const multiLogs = await readdir(path.join(logDir, 'multi'));
    const jobLog = path.join(logDir, 'multi', multiLogs.find((f) => f.endsWith('.jobs')) ?? '', 'build.log');
    assertMasked(await readFile(jobLog, 'utf8'), "the job's log");
    assertMasked(await readFile(path.join(logDir, 'multi', multiLogs.find((f) => f.endsWith('.log')) ?? ''), 'utf8'), 'the run log of jobs');
    for (const repo of ['site', 'multi']) {
      const logs = await project.cli('logs', repo);
      assert.equal(logs.code, 0, logs.stderr);
      assertMasked(logs.stdout, `logs ${repo}`);
    }

    // The failing step's tail, in plain output without -v.
    await site.commit({ 'second.txt': '2\n' });
    const plain = await project.cli('once');
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /site show │ whole=\*\*\*/, 'the tail is shown');
    assertMasked(plain.stdout + plain.stderr, 'the failure tail');

    // JSON events: every output line and the tail of the finished step.
    await site.commit({ 'third.txt': '3\n' });
    const json = await project.cli('once', '--log-format', 'json', '-v');
    assert.equal(json.code, 1);
    assertMasked(json.stdout + json.stderr, 'JSON output');
    const events = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; tail?: string[] });
    const finished = events.find((e) => e.event === 'step-finished' && e.tail !== undefined && e.tail.length > 0);
    assertMasked((finished?.tail ?? []).join('\n'), 'the JSON tail');

    // Notifications: three failed runs of two repos, two targets each.
    await receiver.received(12);
    assertMasked(receiver.bodies.map((b) => b.body).join('\n'), 'notification bodies', []);
  });
});
