// The daemon's end of the control socket, `<state>.sock`. It is made owner-only before anyone can reach
// it: bound inside a private folder, made 0600, then renamed into place (a Unix socket keeps working
// under its new name). A socket file left by a killed daemon is replaced; the instance lock, held
// before this runs, already keeps a second daemon away. A socket that is removed (by hand, by a cleanup
// of the folder) is made again by `ensure`; connections to the old one are served to their end.
// A client holds a connection only while it is served: at most 64 at once, the oldest that has not sent
// its request making room for a new one; a request must come within 5 s, and an answer must be taken
// within 10 s.

import { mkdtemp, rename, rm, chmod, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { GitError, IoError, StateError, UsageError } from '../errors.js';
import { MAX_REQUEST_BYTES, parseRequest, type ControlReply, type ControlRequest } from './protocol.js';

/** What the daemon answers with. `reply` may be called more than once for streaming answers. */
export type ControlHandler = (request: ControlRequest, reply: (answer: ControlReply) => void, closed: AbortSignal) => Promise<void>;

export interface ControlServer {
  readonly path: string;
  /** Makes the socket when its file is missing or is not this daemon's; true when it made one. Throws when it cannot. */
  ensure(): Promise<boolean>;
  /** Stops taking connections, waits for those being served, and removes the socket if it is still this daemon's. */
  close(): Promise<void>;
}

/** Connections at once; each is a file descriptor, and a daemon's supply of them may be small. */
const MAX_CONNECTIONS = 64;
/** How long a client may take to send its request. */
const REQUEST_MS = 5_000;
/** How long an answer may wait for its client to take it. */
const UNREAD_MS = 10_000;
/** How long shutdown waits for the connections still being served. */
const CLOSE_MS = 2_000;

export function socketPath(statePath: string): string {
  return `${statePath}.sock`;
}

/** A control server that has no socket yet: `ensure` makes it. */
export function controlServer(statePath: string, handler: ControlHandler): ControlServer {
  const target = socketPath(statePath);
  const live = new Set<Socket>();
  /** Connections that have not sent their request yet, oldest first. */
  const waiting = new Set<Socket>();
  const onConnection = (socket: Socket): void => {
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
  };
  let bound: Bound | undefined;
  let closing = false;
  // One at a time: a SIGHUP and the periodic check must not both make a socket.
  let turn: Promise<unknown> = Promise.resolve();
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const run = turn.then(task);
    turn = run.catch(() => undefined);
    return run;
  };
  return {
    path: target,
    ensure: () =>
      serially(async () => {
        if (closing || (bound !== undefined && (await socketId(target)) === bound.id)) return false;
        const next = await bind(target, onConnection);
        // The old socket only stops taking connections; those it has are served to their end.
        bound?.server.close();
        bound = next;
        return true;
      }),
    close: () =>
      serially(async () => {
        closing = true;
        if (bound === undefined) return;
        const { server, id } = bound;
        server.close();
        // Shutdown does not wait for a client that has asked nothing, and only briefly for one whose answer is not taken yet.
        for (const socket of waiting) socket.destroy();
        let timer: NodeJS.Timeout | undefined;
        const ended = Promise.all([...live].map((s) => new Promise((resolve) => s.once('close', resolve))));
        await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_MS)))]);
        clearTimeout(timer);
        for (const socket of live) socket.destroy();
        if ((await socketId(target)) === id) await rm(target, { force: true });
      }),
  };
}

interface Bound {
  readonly server: Server;
  /** Which file is this socket: a file at the path with another id is not it. */
  readonly id: string;
}

async function socketId(file: string): Promise<string | undefined> {
  const st = await stat(file).catch(() => undefined);
  return st?.isSocket() ? `${st.dev}:${st.ino}` : undefined;
}

async function bind(target: string, onConnection: (socket: Socket) => void): Promise<Bound> {
  // Only a socket file (a killed daemon's, or this one's own) is replaced; anything else is for a person to look at.
  const existing = await stat(target).catch(() => undefined);
  if (existing !== undefined && !existing.isSocket()) throw new Error(`${target} is ${existing.isDirectory() ? 'a folder' : 'not a socket'}`);
  const dir = await mkdtemp(path.join(path.dirname(target), '.gitwatch-sock-'));
  const server = createServer(onConnection);
  try {
    const staging = path.join(dir, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(staging, () => resolve());
    });
    await chmod(staging, 0o600);
    await rm(target, { force: true });
    await rename(staging, target);
    const id = await socketId(target);
    if (id === undefined) throw new Error(`${target} was replaced while it was made`);
    server.on('error', () => undefined);
    return { server, id };
  } catch (error) {
    server.close();
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function serve(socket: Socket, handler: ControlHandler, onRequest: () => void): void {
  const closed = new AbortController();
  let stalled: NodeJS.Timeout | undefined;
  // The whole request within the limit, not merely a byte now and then.
  const asking = setTimeout(() => socket.destroy(), REQUEST_MS);
  socket.on('close', () => {
    clearTimeout(asking);
    clearTimeout(stalled);
    closed.abort();
  });
  socket.on('error', () => undefined);
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
    clearTimeout(asking);
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
