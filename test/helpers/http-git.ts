// `git http-backend` behind HTTP basic auth on 127.0.0.1: a real smart-HTTP remote that wants credentials.

import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface HttpGitOptions {
  readonly root: string;
  readonly user: string;
  readonly password: string;
  /** Runs before each authorised request is served: a moment when git is waiting on us. */
  readonly onRequest?: (req: IncomingMessage) => Promise<void> | void;
  /** Serve https with this key and certificate (PEM) instead of http. */
  readonly tls?: { readonly key: string; readonly cert: string } | undefined;
}

export async function startHttpGit(
  t: TestContext,
  options: HttpGitOptions,
): Promise<{ url: (name: string) => string; requests: () => number; denied: () => number }> {
  let requests = 0;
  let denied = 0;
  const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const handler: RequestListener = (req, res) => {
    if (req.headers.authorization !== expected) {
      denied++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('unauthorized\n');
      return;
    }
    requests++;
    void Promise.resolve(options.onRequest?.(req)).then(() => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const cgi = spawn('git', ['http-backend'], {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          GIT_PROJECT_ROOT: options.root,
          GIT_HTTP_EXPORT_ALL: '1',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          REQUEST_METHOD: req.method ?? 'GET',
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
          HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
          REMOTE_USER: options.user,
          REMOTE_ADDR: '127.0.0.1',
        },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      req.pipe(cgi.stdin);
      // CGI output: headers, a blank line, the body.
      let head = Buffer.alloc(0);
      let headersDone = false;
      cgi.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') + 4 : head.indexOf('\n\n') >= 0 ? head.indexOf('\n\n') + 2 : -1;
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString().split(/\r?\n/)) {
          const m = /^([^:]+):\s*(.*)$/.exec(line);
          if (!m?.[1] || m[2] === undefined) continue;
          if (m[1].toLowerCase() === 'status') status = Number.parseInt(m[2], 10);
          else res.setHeader(m[1], m[2]);
        }
        res.writeHead(status);
        res.write(head.subarray(end));
      });
      cgi.stdout.on('end', () => res.end());
    });
  };
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  return { url: (name) => `${scheme}://127.0.0.1:${port}/${name}`, requests: () => requests, denied: () => denied };
}

/** A private certificate authority (PEM) and a server certificate it signed for 127.0.0.1. */
export async function privateCa(): Promise<{ caCert: string; tls: { key: string; cert: string } }> {
  const { generate } = await import('selfsigned');
  const ca = await generate([{ name: 'commonName', value: 'gitwatch test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { caCert: ca.cert, tls: { key: leaf.private, cert: leaf.cert } };
}

/** A certificate for 127.0.0.1 signed by its own key (PEM): nothing trusts it. */
export async function selfSignedTls(): Promise<{ key: string; cert: string }> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { key: pems.private, cert: pems.cert };
}
