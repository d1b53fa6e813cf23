// A notification receiver on 127.0.0.1: records every request body, and answers 204, 500, or never.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Receiver {
  readonly url: string;
  /** Bodies in arrival order, with the path they were posted to. */
  readonly bodies: { path: string; body: string }[];
  /** Resolves once `n` bodies have arrived (or fails after `limitMs`). */
  received(n: number, limitMs?: number): Promise<void>;
}

export async function startReceiver(t: TestContext, answer: 'ok' | 'fail' | 'hang' = 'ok'): Promise<Receiver> {
  const bodies: { path: string; body: string }[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', body });
      if (answer === 'hang') return void hanging.push(res);
      res.writeHead(answer === 'ok' ? 204 : 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    received: async (n, limitMs = 15_000) => {
      const end = Date.now() + limitMs;
      while (bodies.length < n) {
        if (Date.now() > end) throw new Error(`got ${bodies.length} of ${n} notifications`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
