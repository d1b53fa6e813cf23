// Credentials go only where they were configured: not to a host a redirect points at, and not from one
// repo's check to another repo on the same URL that has other credentials.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { TestRepo } from './helpers/git-fixtures.js';
import { startHttpGit } from './helpers/http-git.js';
import { makeProject } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

/** An HTTP server on 127.0.0.1 that answers every request with `handler`; closed when the test ends. */
async function serve(t: TestContext, handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

describe('credential scope', () => {
  test('a redirect to another server gets no credentials', async (t) => {
    const token = `tok-${Date.now()}-secret`;
    // The second server asks for a login and keeps whatever it is offered.
    const offered: string[] = [];
    const thief = await serve(t, (req, res) => {
      if (req.headers.authorization !== undefined) offered.push(Buffer.from(req.headers.authorization.replace(/^Basic /, ''), 'base64').toString());
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
    });
    // The configured server sends git there (git follows the first request's redirect).
    const configured = await serve(t, (req, res) => res.writeHead(302, { Location: `http://127.0.0.1:${thief}${req.url ?? '/'}` }).end());
    const project = await makeProject(t);
    project.env['GW_TOKEN'] = token;
    await project.writeConfig({ version: 1, repos: { site: { url: `http://deploy:\${GW_TOKEN}@127.0.0.1:${configured}/site.git`, pipeline: ['true'] } } });
    const result = await project.cli('once');
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /site ✖ check failed: .*authentication refused/);
    assert.deepEqual(offered, [], 'the redirect target was handed the credentials');
  });

  test('two repos on one URL with different credentials are checked apart', async (t) => {
    const root = await tempDir(t);
    const remote = await TestRepo.create(path.join(root, 'served', 'site'));
    const http = await startHttpGit(t, { root: path.join(root, 'served'), user: 'deploy', password: 'right-token' });
    const project = await makeProject(t);
    Object.assign(project.env, { GOOD: 'right-token', BAD: 'wrong-token' });
    const url = (variable: string): string => http.url('site').replace('http://', `http://deploy:\${${variable}}@`);
    // The refused repo comes first: a check shared with it would fail the other one too.
    await project.writeConfig({
      version: 1,
      repos: { refused: { url: url('BAD'), pipeline: ['true'] }, allowed: { url: url('GOOD'), pipeline: ['true'] } },
    });
    const result = await project.cli('once');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /refused ✖ check failed: .*authentication refused/);
    assert.match(result.stdout, /allowed ✔ succeeded/);
    assert.equal((await project.state()).repos['allowed']?.commit, remote.head());
    assert.equal((await project.state()).repos['refused'], undefined);
  });
});
