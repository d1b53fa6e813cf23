// Remotes that never stop advertising refs: a smart-HTTP server (asked in-process) and a git:// server
// (asked by git ls-remote), each sending valid pkt-lines as fast as they are read, until the client leaves.

import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { Writable } from 'node:stream';

const SHA = 'a'.repeat(40);

function pkt(line: string): string {
  return `${(Buffer.byteLength(line) + 4).toString(16).padStart(4, '0')}${line}`;
}

/** Writes `<sha> refs/heads/flood-N` lines to `out` for as long as it accepts them. */
function flood(out: Writable): void {
  let i = 0;
  const more = (): void => {
    while (!out.destroyed && out.writable) {
      let chunk = '';
      for (let j = 0; j < 1000; j++) chunk += pkt(`${SHA} refs/heads/flood-${String(i++).padStart(12, '0')}\n`);
      if (!out.write(chunk)) return void out.once('drain', more);
    }
  };
  out.on('error', () => undefined);
  more();
}

export interface FloodingRemote {
  readonly url: string;
  /** The User-Agent of every HTTP request: gitwatch's own check says `git/gitwatch`, git says `git/2.x`. */
  readonly userAgents: string[];
}

export async function startFloodingRemote(t: TestContext, kind: 'http' | 'git'): Promise<FloodingRemote> {
  const userAgents: string[] = [];
  const sockets = new Set<Socket>();
  const server =
    kind === 'http'
      ? createHttpServer((req, res) => {
          userAgents.push(String(req.headers['user-agent'] ?? ''));
          res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' });
          res.write(`${pkt('# service=git-upload-pack\n')}0000${pkt(`${SHA} HEAD\0symref=HEAD:refs/heads/main\n`)}`);
          flood(res);
        })
      : createServer((socket) => {
          // The request line first (`git-upload-pack /path\0host=...\0`), then the advertisement.
          socket.once('data', () => {
            socket.write(pkt(`${SHA} HEAD\0symref=HEAD:refs/heads/main\n`));
            flood(socket);
          });
        });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `${kind}://127.0.0.1:${port}/site`, userAgents };
}
