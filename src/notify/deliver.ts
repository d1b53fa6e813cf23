// One delivery to one target: a POST to a URL, or a command fed the report on stdin. Either ends within
// its time limit, or when `signal` aborts, and fails with a message that never holds the URL.

import { spawn } from 'node:child_process';
import type { Env } from '../domain.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { spawnFailure } from '../runtime/spawn-failure.js';

export interface DeliveryOptions {
  readonly timeoutMs: number;
  /** Aborted when shutdown stops waiting for notifications. */
  readonly signal: AbortSignal;
}

const STOPPED = 'stopped by shutdown';

/** POSTs `body` as JSON; resolves on a 2xx answer, rejects otherwise, and always within `timeoutMs`. */
export async function post(url: string, body: string, options: DeliveryOptions): Promise<void> {
  const target = new URL(url);
  // Loaded with the first delivery, not with every `once` and `run`: node:https brings TLS and crypto
  // along, about 8 ms of start-up that a config without webhook notifications never uses.
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(new Error(STOPPED));
    let settled = false;
    const done = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onStop);
      if (error === undefined) resolve();
      else reject(error);
    };
    const fail = (message: string): void => {
      req.destroy();
      done(new Error(message));
    };
    // No keep-alive agent: an idle socket must not keep `once` from exiting.
    const req = request(
      target,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'gitwatch' } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.once('end', () => done(status >= 200 && status < 300 ? undefined : new Error(`HTTP ${status}`)));
        res.once('error', () => done(new Error(`HTTP ${status}, then the connection broke`)));
      },
    );
    // A timer held here, not AbortSignal.timeout: Node 20 may garbage-collect that signal (inside
    // AbortSignal.any) before it fires, and a receiver that never answers then holds the delivery forever.
    const timer = setTimeout(() => fail(`no answer within ${options.timeoutMs / 1000}s`), options.timeoutMs);
    const onStop = (): void => fail(STOPPED);
    options.signal.addEventListener('abort', onStop, { once: true });
    // Node's messages name the host and port, never the path or the userinfo; callers mask them anyway.
    req.once('error', (error: NodeJS.ErrnoException) => done(new Error(error.code ?? error.message)));
    req.end(body);
  });
}

export interface CommandOptions extends DeliveryOptions {
  readonly cwd: string;
  readonly env: Env;
  readonly groups: ProcessGroups;
}

/** Runs `command` with /bin/sh -c in its own process group, `body` on stdin; resolves when it exits 0. */
export function runCommand(command: string, body: string, options: CommandOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    const pid = child.pid;
    if (pid !== undefined) options.groups.track(pid);
    let why: string | undefined;
    const kill = (message: string): void => {
      why ??= message;
      if (pid !== undefined) options.groups.signal(pid, 'SIGKILL');
    };
    const timer = setTimeout(() => kill(`killed after ${options.timeoutMs / 1000}s`), options.timeoutMs);
    const onAbort = (): void => kill(STOPPED);
    options.signal.addEventListener('abort', onAbort, { once: true });
    // Out of file descriptors (EMFILE), the shell never starts and has no stdin: 'error' says why.
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      reject(new Error(`cannot start /bin/sh: ${spawnFailure(error)}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) options.groups.untrack(pid);
      if (why === undefined && code === 0) resolve();
      else reject(new Error(why ?? (code === null ? `killed by ${signal}` : `exited with code ${code}`)));
    });
    // A command that does not read its stdin closes the pipe: that is no failure of the command.
    child.stdin?.once('error', () => undefined);
    child.stdin?.end(body);
    if (options.signal.aborted) onAbort();
  });
}
