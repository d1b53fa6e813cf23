// `gitwatch run --listen`: GET /healthz, GET /metrics, POST /hooks/<repo> and the status page's routes
// (status-page.ts), and 404 for anything else. Every answer of the first three but the metrics is the
// status line's text (none for a 204) and nothing more. Timeouts and a connection cap
// keep slow or hostile clients from holding the daemon: a request must be whole within 10 s, and its
// headers within 5 s.

import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { baseUrl, type ListenAddress } from './address.js';
import type { Metrics } from './metrics.js';
import { RecentDeliveries } from './deliveries.js';
import { deliveryId, hookEvent, verifyPush } from './webhook.js';
import type { EventStream } from './event-stream.js';
import { routePage, type PageTarget } from './status-page.js';

/** What the server needs of the daemon (the supervisor, seen from beside it). */
export interface HttpTarget {
  /** The repos as configured now, with their webhook secrets. */
  repos(): readonly { readonly name: string; readonly webhookSecret: string | undefined }[];
  /** Every configured repo has been checked at least once. */
  healthy(): boolean;
  /** Starts a check of `name` at once. */
  checkNow(name: string): boolean;
  /** The daemon's clock, in milliseconds: how long delivery ids are remembered. */
  now(): number;
}

export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/** GitHub caps its webhook bodies at 25 MB but pushes are far smaller; 1 MiB bounds what a stranger can make us hold. */
export const MAX_BODY = 1024 * 1024;
const MAX_CONNECTIONS = 256;
const HOOK = /^\/hooks\/([a-z0-9][a-z0-9._-]{0,63})$/;

/** The status page: what it shows, and the events it follows. */
export interface PageParts {
  readonly target: PageTarget;
  readonly events: EventStream;
}

export async function startHttpServer(address: ListenAddress, metrics: Metrics, target: HttpTarget, page?: PageParts): Promise<HttpServer> {
  const deliveries = new RecentDeliveries(() => target.now());
  const server = createServer(
    {
      headersTimeout: 5_000,
      requestTimeout: 10_000,
      keepAliveTimeout: 5_000,
      // How often the two timeouts above are enforced; Node's default (30 s) lets a slow client sit far longer.
      connectionsCheckingInterval: 1_000,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => route(req, res, metrics, target, deliveries, page),
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.maxRequestsPerSocket = 100;
  // A connection that goes quiet between requests, or after its headers, is cut.
  server.setTimeout(15_000, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    url: baseUrl(bound.address, bound.port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        page?.events.close();
        server.closeAllConnections();
      }),
  };
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: Metrics,
  target: HttpTarget,
  deliveries: RecentDeliveries,
  page: PageParts | undefined,
): void {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (page !== undefined && routePage(req, res, path, page.target, page.events)) return;
  if (req.method === 'GET' && path === '/healthz') return answer(res, target.healthy() ? 200 : 503);
  if (req.method === 'GET' && path === '/metrics') return void serveMetrics(res, metrics);
  const hook = HOOK.exec(path);
  if (req.method === 'POST' && hook?.[1] !== undefined) return webhook(req, res, hook[1], target, deliveries);
  answer(res, 404);
}

async function serveMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  try {
    const text = await metrics.text();
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text);
  } catch {
    answer(res, 500);
  }
}

/**
 * In this order: the signature (401), the event (a ping 200, anything but a push or a tag 204), the
 * delivery id (seen in the last hour: 200). Only a delivery that starts a check has its id remembered.
 */
function webhook(req: IncomingMessage, res: ServerResponse, name: string, target: HttpTarget, deliveries: RecentDeliveries): void {
  // Read the secret now: a reload may have changed it, and a removed repo has none.
  const secret = target.repos().find((r) => r.name === name)?.webhookSecret;
  if (secret === undefined) return answer(res, 404);
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return answer(res, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size <= MAX_BODY) return void chunks.push(chunk);
    req.off('data', onData);
    chunks.length = 0;
    answer(res, 413);
  };
  req.on('data', onData);
  req.once('end', () => {
    if (res.headersSent) return;
    const body = Buffer.concat(chunks);
    if (!verifyPush(req.headers, body, secret)) return answer(res, 401);
    const event = hookEvent(req.headers, body);
    if (event !== 'push') return answer(res, event === 'ping' ? 200 : 204);
    const id = deliveryId(req.headers);
    if (id !== undefined && deliveries.has(name, id)) return answer(res, 200);
    if (id !== undefined) deliveries.add(name, id);
    answer(res, 202);
    // The answer goes out first: a sender must never wait on (or learn anything from) the check.
    target.checkNow(name);
  });
  req.once('error', () => res.destroy());
}

function answer(res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  // 204 No Content has no body, by definition.
  if (status === 204) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
  const body = `${STATUS_CODES[status] ?? status}\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  // A refused request may have left a body unread: close rather than read it to the end.
  if (status >= 400) headers['connection'] = 'close';
  res.writeHead(status, headers).end(body);
}
