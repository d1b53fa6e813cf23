// One delivery to one target: a POST to a URL, or a command fed the report on stdin. Either ends within
// its time limit, or when `signal` aborts, and fails with a message that never holds the URL.

import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Env } from '../domain.js';
import type { ProcessGroups } from '../runtime/processes.js';

export interface DeliveryOptions {
  readonly timeoutMs: number;
  /** Aborted when shutdown stops waiting for notifications. */
  readonly signal: AbortSignal;
}

/** POSTs `body` as JSON; resolves on a 2xx answer, rejects otherwise. */
export function post(url: string, body: string, options: DeliveryOptions): Promise<void> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error(reason(signal, options.timeoutMs)));
    // No keep-alive agent: an idle socket must not keep `once` from exiting.
    const req = request(
      target,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'gitwatch' } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.once('end', () => (status >= 200 && status < 300 ? resolve() : reject(new Error(`HTTP ${status}`))));
        res.once('error', () => reject(new Error(`HTTP ${status}, then the connection broke`)));
      },
    );
    const onAbort = (): void => {
      req.destroy();
      reject(new Error(reason(signal, options.timeoutMs)));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal.removeEventListener('abort', onAbort));
    // Node's messages name the host and port, never the path or the userinfo; callers mask them anyway.
    req.once('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ?? error.message)));
    req.end(body);
  });
}

function reason(signal: AbortSignal, timeoutMs: number): string {
  const why = signal.reason as Error | undefined;
  return why?.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : 'stopped by shutdown';
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
    const onAbort = (): void => kill('stopped by shutdown');
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => reject(error));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) options.groups.untrack(pid);
      if (why === undefined && code === 0) resolve();
      else reject(new Error(why ?? (code === null ? `killed by ${signal}` : `exited with code ${code}`)));
    });
    // A command that does not read its stdin closes the pipe: that is no failure of the command.
    child.stdin.once('error', () => undefined);
    child.stdin.end(body);
    if (options.signal.aborted) onAbort();
  });
}
