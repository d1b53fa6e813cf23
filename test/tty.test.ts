import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { BIN } from './helpers/cli.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

test('on a terminal, listr2 shows each step with its outcome', async (t) => {
  const remote = await TestRepo.create(path.join(await tempDir(t), 'site'));
  const project = await makeProject(t, {
    version: 1,
    repos: {
      site: {
        url: remote.url,
        pipeline: [
          { name: 'build', run: 'echo building' },
          { name: 'deploy', run: 'exit 4' },
          { name: 'notify', run: 'true' },
        ],
      },
    },
  });
  // util-linux `script` gives gitwatch a real pseudo-terminal.
  const command = `stty cols 120 rows 40; ${process.execPath} ${BIN} --no-color once`;
  const result = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd: project.dir,
    env: { ...project.env, TERM: 'xterm' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  // eslint-disable-next-line no-control-regex
  const screen = result.stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  assert.match(screen, /✔ build/);
  assert.match(screen, /✖ deploy/);
  assert.match(screen, /step 'deploy' exited with code 4/);
  assert.match(screen, /notify/);
  assert.equal((await project.state()).repos['site']?.lastRun?.status, 'failed');
});
