// The status page's routes on `run --listen`: the page (GET /), its events (GET /events), the status
// (GET /api/status, what `status --json` prints), the recent runs (GET /api/runs), a repo's newest run log
// (GET /api/repos/<name>/logs) and the actions (POST /api/repos/<name>/<action>). Everything that leaves
// goes through the scrubber: no secret and no URL userinfo reaches a browser.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventStream } from './event-stream.js';
import { pageHtml } from './page.js';
import { scrubbed, type Scrub } from './redact.js';

export const ACTIONS = ['trigger', 'pause', 'resume', 'cancel'] as const;
export type PageAction = (typeof ACTIONS)[number];

/** One finished run as the page's bar chart draws it. */
export interface RecentRun {
  readonly startedAt: string;
  readonly commit: string;
  readonly durationMs: number;
  readonly status: string;
}

/** What the page needs of the daemon. */
export interface PageTarget {
  /** What `status --json` prints. */
  status(): Promise<unknown>;
  /** What `gitwatch logs <name>` prints; undefined for a name the daemon does not know. */
  logs(name: string): Promise<string | undefined>;
  /** Each repo's recent runs, oldest first. */
  runs(): Promise<Record<string, readonly RecentRun[]>>;
  /** Applies an action as the control socket does; false for a name the daemon does not know. */
  act(name: string, action: PageAction): Promise<boolean>;
  /** `listen_token` of the config in force; undefined: the page is read-only. */
  token(): string | undefined;
  /** The scrubber for the config in force. */
  scrub(): Scrub;
}

const REPO = /^\/api\/repos\/([^/]+)\/([a-z]+)$/;

/** True when the request was one of the page's (and is answered). */
export function routePage(req: IncomingMessage, res: ServerResponse, path: string, target: PageTarget, events: EventStream): boolean {
  if (req.method === 'GET' && path === '/') return served(res, page(res, target));
  if (req.method === 'GET' && path === '/events') return served(res, events.open(req, res));
  if (req.method === 'GET' && path === '/api/status') return served(res, json(res, target.status(), target));
  if (req.method === 'GET' && path === '/api/runs') return served(res, json(res, target.runs(), target));
  const m = REPO.exec(path);
  const name = m?.[1] === undefined ? undefined : decoded(m[1]);
  const what = m?.[2];
  if (name === undefined || what === undefined) return false;
  if (req.method === 'GET' && what === 'logs') return served(res, logs(res, name, target));
  if (req.method === 'POST' && (ACTIONS as readonly string[]).includes(what)) return served(res, act(req, res, name, what as PageAction, target));
  return false;
}

function served(res: ServerResponse, work: Promise<void> | void): true {
  if (work instanceof Promise) work.catch(() => answer(res, 500));
  return true;
}

async function page(res: ServerResponse, target: PageTarget): Promise<void> {
  const status = scrubbed(await target.status(), target.scrub());
  // A nonce per answer: the page's own script and nothing else runs, even if a repo's name were markup.
  const nonce = randomBytes(16).toString('base64');
  const body = pageHtml({ status, canAct: target.token() !== undefined, nonce });
  res
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    })
    .end(body);
}

async function json(res: ServerResponse, value: Promise<unknown>, target: PageTarget): Promise<void> {
  const body = `${JSON.stringify(scrubbed(await value, target.scrub()), null, 2)}\n`;
  res
    .writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    .end(body);
}

async function logs(res: ServerResponse, name: string, target: PageTarget): Promise<void> {
  const text = await target.logs(name);
  if (text === undefined) return answer(res, 404);
  const body = target.scrub()(text);
  res
    .writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    .end(body);
}

/** In this order: no token configured (403), a missing or wrong token (401), an unknown repo (404), else 202. */
async function act(req: IncomingMessage, res: ServerResponse, name: string, action: PageAction, target: PageTarget): Promise<void> {
  const token = target.token();
  if (token === undefined) return answer(res, 403);
  const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (given === undefined || !sameToken(given, token)) return answer(res, 401);
  if (!(await target.act(name, action))) return answer(res, 404);
  answer(res, 202);
}

/** Both sides hashed first: equal lengths, so not even the token's length leaks through the time taken. */
function sameToken(given: string, token: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(token));
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const REASONS: Readonly<Record<number, string>> = { 202: 'Accepted', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

function answer(res: ServerResponse, status: number): void {
  if (res.headersSent) return void res.destroy();
  const body = `${REASONS[status] ?? status}\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  if (status >= 400) headers['connection'] = 'close';
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  res.writeHead(status, headers).end(body);
}
