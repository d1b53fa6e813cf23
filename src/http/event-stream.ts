// `GET /events`: the daemon's events as server-sent events, each the JSON object `--log-format json -v`
// prints. A tee in front of the reporter hands each event to the connected pages; with none connected it
// does nothing at all, so the page costs the daemon nothing while nobody looks. A page that cannot keep
// up is cut rather than buffered without end: its browser reconnects and catches up from /api/status.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DaemonEvent, GitwatchEvent, Reporter } from '../runtime/events.js';
import { jsonLine } from '../runtime/line-reporter.js';
import { scrubbed, type Scrub } from './redact.js';

/** Pages at once; each holds a connection of the server's 256. */
export const MAX_PAGES = 32;
/** What one page may have unsent before it is cut. */
const MAX_UNSENT = 1024 * 1024;
/** A comment now and then finds pages that went away without closing, and keeps proxies from timing out. */
const HEARTBEAT_MS = 25_000;
/** How long a browser waits before it reconnects. */
const RETRY_MS = 2_000;

export class EventStream {
  private readonly pages = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: () => Date,
    private readonly scrub: () => Scrub,
  ) {}

  get size(): number {
    return this.pages.size;
  }

  /** `inner`, with every event also sent to the pages connected now. */
  tee(inner: Reporter): Reporter {
    return {
      emit: (event) => {
        if (this.pages.size > 0) this.send(event);
        inner.emit(event);
      },
      backlog: () => inner.backlog?.(),
      close: () => inner.close(),
    };
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.pages.size >= MAX_PAGES) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '10' }).end('Service Unavailable\n');
      return;
    }
    // The server cuts quiet connections; this one is quiet between events on purpose.
    req.socket.setTimeout(0);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    this.pages.add(res);
    this.heartbeat ??= setInterval(() => this.write(': \n\n'), HEARTBEAT_MS).unref();
    res.once('close', () => {
      this.pages.delete(res);
      if (this.pages.size > 0) return;
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    });
  }

  close(): void {
    for (const res of this.pages) res.destroy();
    this.pages.clear();
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private send(event: GitwatchEvent | DaemonEvent): void {
    this.write(`data: ${jsonLine(scrubbed(event, this.scrub()), this.now())}\n\n`);
  }

  private write(text: string): void {
    for (const res of this.pages) {
      if (res.writableLength > MAX_UNSENT) res.destroy();
      else res.write(text);
    }
  }
}
