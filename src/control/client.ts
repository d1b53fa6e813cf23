// The commands' end of the control socket. No socket file, or one nobody listens on (a killed daemon's),
// means no daemon: the command works on the state file alone. A socket is trusted only if it is this
// user's own: one that another user owns is refused, never asked. A socket that accepts but does not answer
// within the limit is an error, never a hang; so is an answer that does not end, or has no end in sight.

import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { IoError, UsageError } from '../errors.js';
import { lockHolder, type LockOwner } from '../state/instance-lock.js';
import { socketPath } from './server.js';
import type { ControlReply, ControlRequest } from './protocol.js';

const ANSWER_MS = 2000;
/** Once a reply has begun, the rest of its line must come within this long... */
const LINE_MS = 10_000;
/** ...and it may be at most this large (a status of 10,000 repos is a few MiB). */
const MAX_LINE_BYTES = 32 * 1024 * 1024;

export type Connection = { readonly daemon: false } | { readonly daemon: true; readonly replies: AsyncIterable<ControlReply> };

/**
 * Sends `request` to the daemon on `statePath`. The first reply must come within 2 s; later ones (a run
 * that is waited for) may take as long as they take, until `signal` aborts. With `owner` (who asks), a
 * missing socket while the state's pid file names a live daemon is an error that says so, not "no daemon".
 */
export async function askDaemon(
  statePath: string,
  request: ControlRequest,
  /** The user asking: a socket that another user owns is refused. */
  uid: number | undefined,
  signal?: AbortSignal,
  owner?: LockOwner,
): Promise<Connection> {
  const file = socketPath(statePath);
  const before = await trusted(file, uid);
  if (before === undefined) return noDaemon(statePath, file, owner);
  const socket = connect(file);
  const connected = await new Promise<boolean>((resolve, reject) => {
    socket.once('connect', () => resolve(true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(false);
      else reject(new UsageError(`cannot reach the daemon at ${file}: ${error.message}`));
    });
  });
  if (!connected) {
    socket.destroy();
    return noDaemon(statePath, file, owner);
  }
  // The socket connected to must be the one looked at: not swapped for another in between.
  const after = await trusted(file, uid).catch(() => undefined);
  if (after === undefined || after.ino !== before.ino || after.dev !== before.dev) {
    socket.destroy();
    throw new UsageError(`refusing the control socket ${file}: it was replaced while gitwatch connected to it`);
  }
  socket.write(`${JSON.stringify(request)}\n`);
  signal?.addEventListener('abort', () => socket.destroy(), { once: true });
  return { daemon: true, replies: readReplies(socket, file, signal) };
}

/** No daemon answers on `file`: none runs, unless the pid file names a live daemon, which has lost its socket. */
async function noDaemon(statePath: string, file: string, owner: LockOwner | undefined): Promise<Connection> {
  const holder = owner === undefined ? undefined : await lockHolder(statePath, owner);
  if (holder?.daemon === true) {
    throw new UsageError(
      `the gitwatch daemon (pid ${holder.pid}) on ${statePath} has lost its control socket ${file}; it makes it again within 5 s, or at once on SIGHUP (kill -HUP ${holder.pid})`,
    );
  }
  return { daemon: false };
}

/**
 * The socket file at `file` if it is one that this user's daemon made, undefined when there is none. A
 * socket another user owns (planted in a folder others can write to) would answer with whatever it likes,
 * so it is refused, as is anything that is not a socket (a link to one included).
 */
async function trusted(file: string, uid: number | undefined): Promise<Stats | undefined> {
  let info: Stats;
  try {
    info = await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot reach the daemon at ${file}: ${(error as Error).message}`);
  }
  const remove = 'remove it if no gitwatch daemon of yours runs, and keep the state in a folder only you can write to';
  if (!info.isSocket()) throw new UsageError(`refusing the control socket ${file}: it is not a socket; ${remove}`);
  if (uid !== undefined && info.uid !== uid) {
    throw new UsageError(`refusing the control socket ${file}: it belongs to uid ${info.uid}, not to this user (uid ${uid}); ${remove}`);
  }
  return info;
}

class NoAnswer extends Error {}
class Unfinished extends Error {}
class TooLarge extends Error {}
class NotAReply extends Error {}

async function* readReplies(socket: Socket, file: string, signal: AbortSignal | undefined): AsyncGenerator<ControlReply> {
  let answered = false;
  // The line so far; only each new chunk is searched for its end, so a long line costs its length once.
  let pending = '';
  const decoder = new StringDecoder('utf8');
  const timer = setTimeout(() => socket.destroy(new NoAnswer()), ANSWER_MS);
  let line: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of socket) {
      answered = true;
      clearTimeout(timer);
      let text = decoder.write(chunk as Buffer);
      let end: number;
      while ((end = text.indexOf('\n')) !== -1) {
        const reply = parseReply(pending + text.slice(0, end));
        pending = '';
        text = text.slice(end + 1);
        yield reply;
      }
      pending += text;
      if (pending.length > MAX_LINE_BYTES) throw new TooLarge();
      if (pending.length === 0) {
        clearTimeout(line);
        line = undefined;
      } else line ??= setTimeout(() => socket.destroy(new Unfinished()), LINE_MS);
    }
  } catch (error) {
    if (error instanceof NoAnswer) throw new UsageError(`the daemon at ${file} did not answer within ${ANSWER_MS / 1000} s`);
    if (error instanceof Unfinished) throw new UsageError(`the daemon at ${file} did not finish its answer within ${LINE_MS / 1000} s`);
    if (error instanceof TooLarge) throw new UsageError(`the daemon at ${file} sent an answer over ${MAX_LINE_BYTES / 1024 / 1024} MiB`);
    if (error instanceof NotAReply) throw new UsageError(`the daemon at ${file} answered something that is not a gitwatch reply`);
    if (signal?.aborted) return;
    throw new UsageError(`lost the daemon at ${file}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
    clearTimeout(line);
    socket.destroy();
  }
  if (!answered && !signal?.aborted) throw new UsageError(`the daemon at ${file} closed the connection without an answer`);
}

/** One line of the daemon's: a JSON object that says whether it is `ok`. */
function parseReply(line: string): ControlReply {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new NotAReply();
  }
  if (typeof value !== 'object' || value === null || typeof (value as { ok?: unknown }).ok !== 'boolean') throw new NotAReply();
  return value as ControlReply;
}

/** The one reply of a request that has one. */
export async function firstReply(connection: Extract<Connection, { daemon: true }>): Promise<ControlReply> {
  for await (const reply of connection.replies) return reply;
  throw new UsageError('the daemon closed the connection without an answer');
}

/**
 * The daemon refused: a usage problem (an unknown repo) exits 2 like the same mistake without a daemon;
 * anything else (a state file it cannot write) is a failure there, printed in the daemon's words, exit 1.
 */
export function daemonError(reply: Extract<ControlReply, { ok: false }>): Error {
  return reply.usage ? new UsageError(reply.error) : new IoError(reply.error);
}
