// Talking to `gitwatch run --listen`: where it listens, and plain requests with their status and body.

import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import type { Daemon } from './daemon.js';

/** The daemon's base URL, from its "listening on" line (it listens on port 0: the system picks one). */
export async function listeningUrl(daemon: Daemon): Promise<string> {
  let url: string | undefined;
  await daemon.until(() => (url = /listening on (http:\/\/\S+)/.exec(daemon.stdout())?.[1]) !== undefined, 'the listening line');
  return url ?? '';
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.end(options.body);
  });
}

export const sign = (secret: string, body: string | Buffer): string => createHmac('sha256', secret).update(body).digest('hex');

/** A push as GitHub, Gitea or GitLab sends it. */
export function push(
  forge: 'github' | 'gitea' | 'gitlab',
  secret: string,
  body = '{"ref":"refs/heads/main"}',
): { method: string; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forge === 'github') headers['x-hub-signature-256'] = `sha256=${sign(secret, body)}`;
  if (forge === 'gitea') headers['x-gitea-signature'] = sign(secret, body);
  if (forge === 'gitlab') headers['x-gitlab-token'] = secret;
  return { method: 'POST', headers, body };
}

/** The daemon's resident memory in KiB, from /proc. */
export async function rssKiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}
