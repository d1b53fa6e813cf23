// Secrets in the config: a secret that came out empty is a config error, and no variable that a secret
// field interpolates reaches a step, unless an `env:` names it on purpose.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

describe('a secret that interpolates to an empty string', () => {
  const cases: Record<string, { secret: string; env: Record<string, string> }> = {
    'a variable set but empty': { secret: '${WEBHOOK_SECRET}', env: { WEBHOOK_SECRET: '' } },
    'an empty default': { secret: '${WEBHOOK_SECRET:-}', env: {} },
    'two empty variables': { secret: '${HOOK_A}${HOOK_B}', env: { HOOK_A: '', HOOK_B: '' } },
  };
  for (const [name, { secret, env }] of Object.entries(cases)) {
    test(`is a config error at its line: ${name}`, async (t) => {
      const project = await makeProject(t);
      Object.assign(project.env, env);
      await project.writeConfig(
        ['version: 1', 'repos:', '  site:', '    url: /srv/site', `    webhook_secret: "${secret}"`, '    pipeline: ["true"]', ''].join('\n'),
      );
      for (const command of [['validate'], ['run', '--listen', '127.0.0.1:0']]) {
        const result = await project.cli(...command);
        assert.equal(result.code, 2, `${command[0]}: ${result.stdout}${result.stderr}`);
        assert.match(result.stderr, /gitwatch\.yaml:5:\d+: webhook_secret is empty.* \(at repos\.site\.webhook_secret\)/);
      }
    });
  }
});

describe('variables of secret fields stay out of steps', () => {
  test("a notify URL's path, userinfo and query, webhook_secret, and another repo's credentials", async (t) => {
    const root = await tempDir(t);
    const site = await TestRepo.create(path.join(root, 'site'));
    const other = await TestRepo.create(path.join(root, 'other'));
    const project = await makeProject(t);
    const secrets = {
      NOTIFY_USER: 'notify-user-4471',
      NOTIFY_PASS: 'notify-pass-9930',
      NOTIFY_PATH: 'T000/B000/notify-path-5512',
      NOTIFY_QUERY: 'notify-query-7781',
      DEFAULT_HOOK: 'default-notify-3318',
      HOOK_SECRET: 'hook-secret-6604',
      OTHER_TOKEN: 'other-token-2259',
      PASSED_ON: 'passed-on-purpose-8842',
    };
    Object.assign(project.env, secrets);
    const envFile = path.join(root, 'step.env');
    await project.writeConfig({
      version: 1,
      // Only failures are told: a succeeding run sends nothing anywhere.
      defaults: { notify: [{ on: ['failure'], url: 'https://hooks.example.invalid/${DEFAULT_HOOK}' }] },
      repos: {
        site: {
          url: site.url,
          webhook_secret: '${HOOK_SECRET}',
          notify: [
            { on: ['failure'], url: 'https://${NOTIFY_USER}:${NOTIFY_PASS}@hooks.example.invalid/services/${NOTIFY_PATH}?token=${NOTIFY_QUERY}' },
            { on: ['failure'], url: 'https://hooks.example.invalid/${PASSED_ON}' },
          ],
          env: { PASSED_ON: '${PASSED_ON}' },
          pipeline: [`env > ${envFile}`],
        },
        // Its URL's credentials are its own: never another repo's steps' either.
        other: { url: other.url.replace('file://', 'https://ci:${OTHER_TOKEN}@example.invalid'), enabled: false, pipeline: ['true'] },
      },
    });
    const result = await project.cli('once', 'site');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const seen = await readFile(envFile, 'utf8');
    const leaked = Object.entries(secrets).filter(([name, value]) => name !== 'PASSED_ON' && seen.includes(value));
    assert.deepEqual(leaked, [], 'these reached the step');
    assert.match(seen, /^PASSED_ON=passed-on-purpose-8842$/m, 'a variable an env: names on purpose is passed');
  });
});
