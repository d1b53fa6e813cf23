// The daemon's end of the control socket, `<state>.sock`. It is made owner-only before anyone can reach
// it: bound inside a private folder, made 0600, then renamed into place (a Unix socket keeps working
// under its new name). A socket file left by a killed daemon is replaced; the instance lock, held
// before this runs, already keeps a second daemon away. A client holds a connection only while it is
// served: at most 64 at once, the oldest that has not sent its request making room for a new one, and
// a request must come within 5 s, and an answer must be taken within 10 s.

import { mkdtemp, rename, rm, chmod } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { GitError, IoError, StateError, UsageError } from '../errors.js';
import { MAX_REQUEST_BYTES, parseRequest, type ControlReply, type ControlRequest } from './protocol.js';

/** What the daemon answers with. `reply` may be called more than once for streaming answers. */
export type ControlHandler = (request: ControlRequest, reply: (answer: ControlReply) => void, closed: AbortSignal) => Promise<void>;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Connections at once; each is a file descriptor, and a daemon's supply of them may be small. */
const MAX_CONNECTIONS = 64;
/** How long a client may take to send its request. */
const REQUEST_MS = 5_000;
/** How long an answer may wait for its client to take it. */
const UNREAD_MS = 10_000;

export function socketPath(statePath: string): string {
  return `${statePath}.sock`;
}

export async function startControlServer(statePath: string, handler: ControlHandler): Promise<ControlServer> {
  const target = socketPath(statePath);
  const dir = await mkdtemp(path.join(path.dirname(target), '.gitwatch-sock-'));
  const live = new Set<Socket>();
  /** Connections that have not sent their request yet, oldest first. */
  const waiting = new Set<Socket>();
  const server = createServer((socket) => {
    if (live.size >= MAX_CONNECTIONS) {
      const oldest = waiting.values().next().value;
      if (oldest === undefined) return void socket.destroy();
      waiting.delete(oldest);
      oldest.destroy();
    }
    live.add(socket);
    waiting.add(socket);
    socket.once('close', () => {
      live.delete(socket);
      waiting.delete(socket);
    });
    serve(socket, handler, () => waiting.delete(socket));
  });
  try {
    const staging = path.join(dir, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(staging, () => resolve());
    });
    await chmod(staging, 0o600);
    await rm(target, { force: true });
    await rename(staging, target);
  } catch (error) {
    server.close();
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  server.on('error', () => undefined);
  return { path: target, close: () => closeServer(server, target) };
}

async function closeServer(server: Server, target: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(target, { force: true });
}

function serve(socket: Socket, handler: ControlHandler, onRequest: () => void): void {
  const closed = new AbortController();
  let stalled: NodeJS.Timeout | undefined;
  socket.on('close', () => {
    clearTimeout(stalled);
    closed.abort();
  });
  socket.on('error', () => undefined);
  socket.setTimeout(REQUEST_MS, () => socket.destroy());
  // An answer waits in memory until the client takes it: one that has not taken it within 10 s is
  // dropped, so clients that never read cannot make the daemon hold their answers.
  let unread = 0;
  const reply = (answer: ControlReply): void => {
    if (socket.destroyed || socket.writableEnded) return;
    unread++;
    stalled ??= setTimeout(() => socket.destroy(), UNREAD_MS);
    socket.write(`${JSON.stringify(answer)}\n`, () => {
      if (--unread > 0) return;
      clearTimeout(stalled);
      stalled = undefined;
    });
  };
  // Once all is said, the connection ends when the answer is taken, whether or not the client closes its end.
  const done = (): void => {
    socket.once('finish', () => socket.destroy());
    socket.end();
  };
  let buffer = '';
  const onData = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8');
    if (buffer.length > MAX_REQUEST_BYTES) return void socket.destroy();
    const end = buffer.indexOf('\n');
    if (end === -1) return;
    socket.off('data', onData);
    socket.setTimeout(0);
    onRequest();
    const parsed = parseRequest(buffer.slice(0, end));
    if ('error' in parsed) {
      reply({ ok: false, error: parsed.error, usage: true });
      return done();
    }
    handler(parsed.request, reply, closed.signal).then(done, (error: unknown) => {
      reply(failure(error));
      done();
    });
  };
  socket.on('data', onData);
}

/**
 * What a request that failed in the daemon answers: a known failure (a state file it cannot write) in
 * its own words, which the command prints as they are; anything else says it is the daemon's bug.
 */
function failure(error: unknown): ControlReply {
  if (error instanceof UsageError) return { ok: false, error: error.message, usage: true };
  if (error instanceof IoError || error instanceof StateError || error instanceof GitError) return { ok: false, error: error.message, usage: false };
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, error: `the daemon failed (this is a bug; please report it): ${message}`, usage: false };
}
