// The screenshots of the status page in docs/ (`node dist/bench/status-page-shots.js docs`): a daemon
// with a few repos caught running, failed, succeeded and paused, in light and dark, on a wide screen and
// on a phone. Needs /usr/bin/chromium. The 1,000-repo screenshot comes from the bench (BENCH_PAGE_SHOT).

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Page } from 'puppeteer-core';
import { stringify } from 'yaml';
import { addCommit, GIT_ENV, makeRepos } from './fixtures.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/gitwatch.js');
const out = path.resolve(process.argv[2] ?? 'docs');
const fixture = await makeRepos(5, 'gitwatch-shots-');
const gate = path.join(fixture.root, 'gate');
const [web, api, docs, worker, billing] = fixture.repos.map((bare) => `file://${bare}`);
const deploy = (extra: string): unknown[] => [
  { name: 'build', run: `echo "npm ci"; sleep 0.3; echo "added 412 packages"; ${extra}` },
  { name: 'deploy', run: 'echo "rsync -a dist/ /srv/site/"; echo "sent 1.2 MB"' },
];
await writeFile(
  path.join(fixture.root, 'gitwatch.yaml'),
  stringify({
    version: 1,
    listen_token: '${PAGE_TOKEN}',
    concurrency: { pipelines: 4 },
    repos: {
      web: {
        url: web,
        interval: '1m',
        pipeline: deploy(
          `if [ -f "${gate}" ]; then for i in 1 2 3 4 5 6; do echo "building chunk $i/6"; sleep 0.2; done; while [ -f "${gate}" ]; do sleep 0.1; done; fi`,
        ),
      },
      api: {
        url: api,
        interval: '1m',
        pipeline: [
          { name: 'test', run: 'echo "go test ./..."; sleep 0.2; echo "ok  api/store 0.41s"' },
          { name: 'migrate', run: 'echo "applying 0042_orders.sql"; echo "ERROR: column \\"total\\" does not exist" >&2; exit 1' },
        ],
      },
      docs: { url: docs, interval: '5m', pipeline: deploy('true') },
      worker: {
        url: worker,
        interval: '1m',
        jobs: {
          image: { steps: [{ name: 'build', run: 'echo "docker build"; sleep 0.2' }] },
          rollout: { needs: ['image'], steps: [{ name: 'apply', run: 'echo "kubectl apply -f k8s/"' }] },
        },
      },
      billing: { url: billing, interval: '1m', pipeline: ['echo "charging nobody"'] },
    },
  }),
);
const env = { ...GIT_ENV, PAGE_TOKEN: 'shots-token' };
const child = spawn(process.execPath, [BIN, 'run', '--listen', '127.0.0.1:0'], { cwd: fixture.root, env, stdio: ['ignore', 'pipe', 'inherit'] });
let stdout = '';
child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
const until = async (probe: () => boolean): Promise<void> => {
  while (!probe()) await new Promise((r) => setTimeout(r, 50));
};
const cli = (...args: string[]): Promise<void> =>
  new Promise((resolve) => spawn(process.execPath, [BIN, ...args], { cwd: fixture.root, env, stdio: 'ignore' }).once('exit', () => resolve()));
const profile = await mkdtemp(path.join(tmpdir(), 'gitwatch-shots-chromium-'));
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'], userDataDir: profile });
try {
  await until(() => (stdout.match(/ (succeeded|failed) [0-9a-f]{12} in /g) ?? []).length >= 5);
  const url = /listening on (\S+)/.exec(stdout)?.[1] ?? '';
  // A few more runs, so the charts have bars.
  for (let i = 0; i < 4; i++) {
    for (const bare of fixture.repos) addCommit(bare, `change ${i}`);
    await Promise.all(['web', 'api', 'docs', 'worker', 'billing'].map((name) => cli('trigger', '--wait', name)));
  }
  await cli('pause', 'billing');
  await writeFile(gate, '');
  addCommit(fixture.repos[0] ?? '', 'Ship the new pricing page');
  void cli('trigger', 'web');
  const shoot = async (name: string, width: number, height: number, dark: boolean, ready: (page: Page) => Promise<unknown>): Promise<void> => {
    const page = await browser.newPage();
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: dark ? 'dark' : 'light' }]);
    await page.setViewport({ width, height, deviceScaleFactor: width < 500 ? 2 : 1 });
    await page.goto(`${url}/`);
    await ready(page);
    await new Promise((r) => setTimeout(r, 300));
    await page.screenshot({ path: path.join(out, name) });
    await page.close();
  };
  const running = (page: Page): Promise<unknown> => page.waitForFunction(() => /building chunk [3-6]\/6/.test(document.body.innerText), { timeout: 30_000 });
  await shoot('status-page-running.png', 1280, 820, false, running);
  await shoot('status-page-dark.png', 1280, 820, true, running);
  await shoot('status-page-phone.png', 390, 844, false, running);
  await rm(gate);
  const failed = (page: Page): Promise<unknown> =>
    page.waitForFunction(() => /Failed at step migrate[\s\S]*does not exist/.test(document.body.innerText), { timeout: 30_000 });
  await shoot('status-page-failed.png', 1280, 820, false, failed);
} finally {
  await browser.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(profile, { recursive: true, force: true });
  await rm(fixture.root, { recursive: true, force: true });
}
