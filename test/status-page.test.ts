import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cardText, noBrowser, openBrowser, openPage, waitForCard } from './helpers/browser.js';
import { startDaemon } from './helpers/daemon.js';
import { freePort, TestRepo } from './helpers/git-fixtures.js';
import { startHttpGit } from './helpers/http-git.js';
import { listeningUrl, send } from './helpers/listen.js';
import { makeProject, RECORD_STEP } from './helpers/project.js';
import { tempDir } from './helpers/temp.js';

const skip = noBrowser();
const TOKEN = 'page-token-0123456789';

/** Everything /events sends while it is open, until `stop` is called. */
function collectEvents(url: string): { text: () => string; stop: () => void } {
  let text = '';
  const req = request(`${url}/events`, { agent: false }, (res) => res.on('data', (d: Buffer) => (text += d.toString())));
  req.on('error', () => undefined);
  req.end();
  return { text: () => text, stop: () => req.destroy() };
}

describe('listen_token', () => {
  test('set but empty is a config error at its line and column, exit 2', async (t) => {
    const project = await makeProject(t);
    await project.writeConfig("version: 1\nlisten_token: ${PAGE_TOKEN}\nrepos:\n  site:\n    url: /nowhere\n    pipeline: ['true']\n");
    Object.assign(project.env, { PAGE_TOKEN: '' });
    const result = await project.cli('validate');
    assert.equal(result.code, 2);
    assert.match(result.stderr + result.stdout, /gitwatch\.yaml:2:15: .*listen_token is empty \(PAGE_TOKEN is set but empty\).*listen_token/);
  });
});

describe('status page', { skip }, () => {
  test('lists the repos; a pushed commit shows up running with its output, then its result, without a reload', async (t) => {
    const root = await tempDir(t);
    const site = await TestRepo.create(path.join(root, 'site'));
    const api = await TestRepo.create(path.join(root, 'api'));
    const gate = path.join(root, 'gate');
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: {
          url: site.url,
          interval: '1h',
          pipeline: [{ name: 'build', run: `echo "building $GITWATCH_COMMIT"; while [ ! -f "${gate}" ]; do sleep 0.05; done; echo built` }, RECORD_STEP],
        },
        api: { url: api.url, interval: '1h', pipeline: [RECORD_STEP] },
      },
    });
    await writeFile(gate, '');
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    await daemon.until(async () => (await project.record()).length === 2, 'the first runs');

    const browser = await openBrowser(t);
    const { page, errors } = await openPage(browser, `${base}/`);
    await page.waitForSelector('#repos > li');
    const names = await page.$$eval('#repos > li', (items) => items.map((li) => li.getAttribute('data-name')));
    assert.deepEqual(names, ['site', 'api']);
    await waitForCard(page, 'site', /Succeeded/);
    assert.match(await cardText(page, 'site'), /branch main/);
    // The commit with its subject, from the lock's last run.
    assert.match(await cardText(page, 'site'), new RegExp(`Commit ${site.head().slice(0, 7)} initial`));
    assert.match(await cardText(page, 'site'), /next check in/);
    await page.waitForFunction(() => document.getElementById('live')?.dataset['on'] === '1');
    // A mark on the window: a reload would drop it.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));

    const { rm } = await import('node:fs/promises');
    await rm(gate);
    const sha = await site.commit({ 'orders.sql': 'create table orders ();\n' }, 'Add the orders table\n\nA body the page does not show.');
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    const running = await waitForCard(
      page,
      'site',
      new RegExp(`Running[\\s\\S]*Commit ${sha.slice(0, 7)} Add the orders table\n[\\s\\S]*Step build[\\s\\S]*building ${sha}`),
    );
    assert.match(running, /▶/);
    await writeFile(gate, '');
    const done = await waitForCard(page, 'site', /Succeeded[\s\S]*built|Succeeded/);
    assert.match(done, new RegExp(`Commit ${sha.slice(0, 7)} Add the orders table\n`));
    const status = JSON.parse((await project.cli('status', '--json')).stdout) as { repos: { name: string; lastRun: { subject?: string } | null }[] };
    assert.equal(status.repos.find((r) => r.name === 'site')?.lastRun?.subject, 'Add the orders table');
    assert.match(done, /Recent runs: 2, 0 failed/);
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    assert.deepEqual(errors, []);
  });

  test('a failed run shows its failing step and its last lines, live and after a reload, with a link to the full log', async (t) => {
    const root = await tempDir(t);
    const site = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, {
      version: 1,
      repos: {
        site: {
          url: site.url,
          interval: '1h',
          pipeline: [
            { name: 'build', run: 'echo ok' },
            { name: 'deploy', run: 'echo "line one"; echo "line two" >&2; exit 3' },
          ],
        },
      },
    });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    await daemon.until(() => /site ✖ failed/.test(daemon.stdout()), 'the first run to fail');
    const browser = await openBrowser(t);
    const { page } = await openPage(browser, `${base}/`);
    // From the run log, since no event said it to this page.
    const loaded = await waitForCard(page, 'site', /Failed at step deploy[\s\S]*line one\s+line two/);
    assert.match(loaded, /✖/);
    await page.waitForFunction(() => document.getElementById('live')?.dataset['on'] === '1');

    await site.commit();
    assert.equal((await project.cli('trigger', 'site')).code, 0);
    await daemon.until(() => (daemon.stdout().match(/site ✖ failed/g) ?? []).length === 2, 'the second failure');
    const live = await waitForCard(page, 'site', /Recent runs: 2, 2 failed/);
    assert.match(live, /Failed at step deploy: step 'deploy' exited with code 3/);
    assert.match(live, /line one\s+line two/);
    const href = await page.$eval('#repos > li a', (a) => a.getAttribute('href'));
    assert.equal(href, '/api/repos/site/logs');
    const log = await send(`${base}${href}`);
    assert.equal(log.status, 200);
    assert.equal(log.body, (await project.cli('logs', 'site')).stdout);
    assert.equal((await send(`${base}/api/repos/nope/logs`)).status, 404);
    const api = await send(`${base}/api/status`);
    assert.equal(api.status, 200);
    assert.equal(api.body, (await project.cli('status', '--json')).stdout, '/api/status is what status --json prints');
  });

  test('a dropped connection reconnects by itself and catches up from /api/status, without a reload', async (t) => {
    const root = await tempDir(t);
    const site = await TestRepo.create(path.join(root, 'site'));
    const flag = path.join(root, 'fail-now');
    const check = { name: 'check', run: `if [ -f "${flag}" ]; then echo "the flag is up"; exit 1; fi` };
    const project = await makeProject(t, { version: 1, repos: { site: { url: site.url, interval: '1h', pipeline: [check, RECORD_STEP] } } });
    const listen = `127.0.0.1:${await freePort()}`;
    const first = startDaemon(t, project, ['--listen', listen]);
    const base = await listeningUrl(first);
    await first.until(async () => (await project.record()).length === 1, 'the first run');
    const browser = await openBrowser(t);
    const { page } = await openPage(browser, `${base}/`);
    await waitForCard(page, 'site', /Succeeded/);
    await page.waitForFunction(() => document.getElementById('live')?.dataset['on'] === '1');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    first.child.kill('SIGTERM');
    await first.exited;
    await page.waitForFunction(() => document.getElementById('live')?.dataset['on'] === '0');
    // While no daemon runs, a commit fails: no event will ever say so, only the status.
    await writeFile(flag, '');
    await site.commit();
    assert.equal((await project.cli('once')).code, 1);
    startDaemon(t, project, ['--listen', listen]);
    await page.waitForFunction(() => document.getElementById('live')?.dataset['on'] === '1', { timeout: 20_000 });
    const caught = await waitForCard(page, 'site', /Failed at step check[\s\S]*the flag is up/);
    assert.match(caught, /✖/);
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
  });

  test('actions need the token: read-only without listen_token (no buttons, 403); 401 without or with a wrong token; 202 with it', async (t) => {
    const root = await tempDir(t);
    const site = await TestRepo.create(path.join(root, 'site'));
    const project = await makeProject(t, { version: 1, repos: { site: { url: site.url, interval: '1h', pipeline: [RECORD_STEP] } } });
    const daemon = startDaemon(t, project, ['--listen', '127.0.0.1:0']);
    const base = await listeningUrl(daemon);
    await daemon.until(async () => (await project.record()).length === 1, 'the first run');
    const browser = await openBrowser(t);
    const readOnly = await openPage(browser, `${base}/`);
    await readOnly.page.waitForSelector('#repos > li');
    assert.equal(await readOnly.page.$$eval('button', (b) => b.length), 0);
    for (const action of ['trigger', 'pause', 'resume', 'cancel']) {
      assert.equal((await send(`${base}/api/repos/site/${action}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status, 403);
    }
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    await project.writeConfig({ version: 1, listen_token: '${PAGE_TOKEN}', repos: { site: { url: site.url, interval: '1h', pipeline: [RECORD_STEP] } } });
    const withToken = startDaemon(t, { ...project, env: { ...project.env, PAGE_TOKEN: TOKEN } }, ['--listen', '127.0.0.1:0']);
    const url = await listeningUrl(withToken);
    const post = (action: string, headers: Record<string, string> = {}, repo = 'site'): Promise<number> =>
      send(`${url}/api/repos/${repo}/${action}`, { method: 'POST', headers }).then((a) => a.status);
    assert.equal(await post('trigger'), 401);
    assert.equal(await post('trigger', { authorization: 'Bearer wrong' }), 401);
    assert.equal(await post('trigger', { authorization: TOKEN }), 401);
    assert.equal(await post('trigger', { authorization: `Bearer ${TOKEN}` }, 'nope'), 404);
    assert.equal(await post('pause', { authorization: `Bearer ${TOKEN}` }), 202);
    await withToken.until(
      async () => (await project.state()).repos['site'] !== undefined && JSON.stringify(await project.state()).includes('"paused":true'),
      'the pause',
    );
    assert.equal(await post('resume', { authorization: `Bearer ${TOKEN}` }), 202);
    assert.equal(await post('cancel', { authorization: `Bearer ${TOKEN}` }), 202);
    assert.equal((await send(`${url}/api/repos/site/trigger`)).status, 404, 'actions are POST only');

    // The page asks for the token, keeps it for the tab, and its button triggers a run.
    const { page } = await openPage(browser, `${url}/`);
    await page.waitForSelector('button[data-act="trigger"]');
    assert.equal(await page.$eval('button[data-act="trigger"]', (b) => b.getAttribute('aria-label')), 'Trigger site');
    const before = (await project.record()).length;
    // Clicked inside the page in one step: a live update may redraw the card between finding a button and a
    // click from outside, which then lands on a node no longer in the document.
    const click = (selector: string): Promise<void> => page.$eval(selector, (b) => (b as HTMLElement).click());
    await click('button[data-act="trigger"]');
    await page.waitForFunction(() => /listen_token/.test(document.getElementById('note')?.textContent ?? ''));
    await page.type('#token', TOKEN);
    await click('#token-form button');
    await click('button[data-act="trigger"]');
    await page.waitForFunction(() => /accepted/.test(document.getElementById('note')?.textContent ?? ''));
    await withToken.until(async () => (await project.record()).length === before + 1, 'the run the page triggered');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('gitwatch-listen-token')), TOKEN);
  });

  test('no secret reaches the page, /api/status or /events: URL credentials, secret variables and the token', async (t) => {
    const root = await tempDir(t);
    const password = 'pa55word-in-the-url';
    const hookSecret = 'hook-secret-value-42';
    const served = path.join(root, 'served');
    const http = await startHttpGit(t, { root: served, user: 'deploy', password });
    const remote = await TestRepo.create(path.join(served, 'site'));
    const url = http.url('site').replace('http://', 'http://deploy:${GIT_PASSWORD}@');
    const project = await makeProject(t, {
      version: 1,
      listen_token: '${PAGE_TOKEN}',
      repos: {
        site: {
          url,
          interval: '1h',
          webhook_secret: '${HOOK_SECRET}',
          // Named in env on purpose: the step sees it, and its output masks it.
          env: { LEAK: '${HOOK_SECRET}' },
          pipeline: [{ name: 'leak', run: 'echo "hook $LEAK token ${PAGE_TOKEN:-none} url $GITWATCH_URL"; echo "$LEAK" >&2; exit 1' }],
        },
        refused: { url: url.replace('${GIT_PASSWORD}', '${WRONG_PASSWORD}'), interval: '1h', pipeline: ['true'] },
      },
    });
    const env = { ...project.env, GIT_PASSWORD: password, HOOK_SECRET: hookSecret, PAGE_TOKEN: TOKEN, WRONG_PASSWORD: 'wrong-pa55word' };
    const daemon = startDaemon(t, { ...project, env }, ['--listen', '127.0.0.1:0', '-v']);
    const base = await listeningUrl(daemon);
    const events = collectEvents(base);
    t.after(() => events.stop());
    await daemon.until(() => /site ✖ failed/.test(daemon.stdout()) && /refused ✖ check failed/.test(daemon.stdout()), 'the failed run and the refused check');
    await remote.commit();
    await project.cli('trigger', 'site');
    await daemon.until(() => (daemon.stdout().match(/site ✖ failed/g) ?? []).length === 2, 'a second run while /events listens');

    const browser = await openBrowser(t);
    const { page } = await openPage(browser, `${base}/`);
    await waitForCard(page, 'site', /Failed at step leak/);
    await waitForCard(page, 'refused', /Check failed/);
    const seen = {
      page: await page.content(),
      status: (await send(`${base}/api/status`)).body,
      events: events.text(),
      logs: (await send(`${base}/api/repos/site/logs`)).body,
      runs: (await send(`${base}/api/runs`)).body,
    };
    assert.match(seen.events, /"event":"step-output"/, 'the events were read');
    assert.match(seen.logs, /hook \*\*\* token none /, 'the token is masked, and kept out of the step');
    for (const [where, text] of Object.entries(seen)) {
      for (const secret of [password, 'wrong-pa55word', hookSecret, TOKEN, 'deploy:']) assert.ok(!text.includes(secret), `${where} shows ${secret}`);
      assert.doesNotMatch(text, /https?:\/\/[^/\s"]*@/, `${where} shows a URL with userinfo`);
    }
  });
});
