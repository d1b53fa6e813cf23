// Debian's chromium, headless, driven by puppeteer-core: nothing downloads a browser. A test that needs
// it skips with its reason where /usr/bin/chromium is missing, unless GITWATCH_TEST_REQUIRE_CHROMIUM=1
// (CI installs it), where the missing browser fails the test instead.

import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function noBrowser(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env['GITWATCH_TEST_REQUIRE_CHROMIUM'] === '1') throw new Error(`${CHROMIUM} is missing and GITWATCH_TEST_REQUIRE_CHROMIUM=1`);
  return `${CHROMIUM} is not installed (apt-get install chromium)`;
}

/** A headless browser of its own (a temp profile), closed when the test ends. */
export async function openBrowser(t: TestContext): Promise<Browser> {
  // Its own folder, removed only once the browser has closed (a temp dir's cleanup could come first).
  const profile = await mkdtemp(path.join(tmpdir(), 'gitwatch-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Tests run as root, where chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
    userDataDir: profile,
  });
  t.after(async () => {
    await browser.close();
    await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  return browser;
}

/** A page at `url`, with the size given; every console error is kept for the test to look at. */
export async function openPage(browser: Browser, url: string, size = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('requestfailed', (req) => errors.push(`${req.url()}: ${req.failure()?.errorText ?? 'failed'}`));
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`${res.url()}: ${res.status()}`);
  });
  await page.setViewport(size);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, errors };
}

/** The text of one repo's card, as a person reads it. */
export function cardText(page: Page, repo: string): Promise<string> {
  return page.evaluate((name) => {
    const card = [...document.querySelectorAll('#repos > li')].find((li) => li.getAttribute('data-name') === name);
    return card instanceof HTMLElement ? card.innerText : '';
  }, repo);
}

/** Waits until the card of `repo` says what `pattern` matches. */
export async function waitForCard(page: Page, repo: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = await cardText(page, repo);
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the card of ${repo} never matched ${pattern}; it says:\n${text}`);
}
