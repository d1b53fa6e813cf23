// A smart-HTTP remote's refs, asked for from inside gitwatch instead of by `git ls-remote` (git and
// git-remote-http, a TLS handshake and two requests per check). The protocol is isomorphic-git's: the v0
// advertisement (one request), or for a remote whose advertisement is large, v2 `ls-refs` with a ref prefix
// (falling back to v0 where the server speaks no v2); the requests are made here, on
// one kept-alive connection pool per scheme, so that what git's own rules say holds here too: credentials go
// only to the configured host and scheme (a redirect elsewhere gets none), a redirect is followed on the first
// request only, every request shares the check's time limit, certificates are verified against the
// authorities git trusts (tls-trust.ts; nothing from Node's environment), and whatever this cannot do exactly
// (a proxy, a client certificate, verification turned off, an answer it does not understand) is left to git.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { GitHttpRequest, GitHttpResponse, ServerRef } from 'isomorphic-git';
import { isSha, type Credentials, type Env, type Result } from '../domain.js';
import { GitError } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import { escapeControls } from '../rules/safe-text.js';
import { classifyGitFailure } from './classify.js';
import { readAdvertisement } from './advertisement.js';
import { Deadlines, type Deadline } from './deadlines.js';
import { pktLineProblem } from './pkt-line.js';
import { RefListingBuilder, type RefListing, type RefPatterns } from './refs.js';
import { gitTrust } from './tls-trust.js';

/** This remote is better asked by git; `reason` says why, for the one line that tells the user. */
export class UseGit extends Error {
  override readonly name = 'UseGit';
}

export interface HttpCall {
  readonly credentials: Credentials | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** For messages: the URL without credentials. */
  readonly context: string;
}

/**
 * The largest answer read here. Reading one costs several times its size in memory (the listing is built
 * from all of it), so a larger one is left to git, and the remote is asked with v2 and a ref prefix from
 * then on (see LARGE_ADVERTISEMENT), which makes its answers small.
 */
const MAX_BODY = 8 * 1024 * 1024;
/**
 * Far larger than any real advertisement (a million refs): a remote that sends more fails the check, and is
 * not handed to git, which would read the same flood. Counted, never kept: only MAX_BODY is held.
 */
const MAX_FLOOD = 64 * 1024 * 1024;
const MAX_REDIRECTS = 20;
const SERVICE = '/info/refs?service=git-upload-pack';
/** Error codes of a certificate refused here: git, asked then, refuses it in its own words (or its TLS library accepts a chain Node's does not). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|SSL/;

/**
 * A v0 advertisement (every ref, one request) larger than this makes later checks of that remote use protocol
 * v2's `ls-refs` with a ref prefix (two requests, only the refs asked for). Most repos advertise a few
 * kilobytes, and one request costs both sides half of what two do.
 */
const LARGE_ADVERTISEMENT = 64 * 1024;

export class HttpRefReader {
  private readonly agents = new Map<string, HttpAgent>();
  /** Remotes whose full advertisement is large: asked with v2 and a ref prefix. */
  private readonly large = new Set<string>();
  /** The authorities git would trust (tls-trust.ts), read once. */
  private trust: Result<string, string> | undefined;
  private readonly deadlines: Deadlines;

  constructor(
    private readonly env: Env,
    clock: Clock,
  ) {
    this.deadlines = new Deadlines(clock);
  }

  /** Why this URL is left to git (a proxy, client certificates, verification off), or undefined. */
  unsupported(url: URL): string | undefined {
    const proxy = proxyFor(url, this.env);
    if (proxy !== undefined) return `a proxy is set (${proxy})`;
    if (url.protocol !== 'https:') return undefined;
    this.trust ??= gitTrust(this.env);
    return this.trust.ok ? undefined : this.trust.error;
  }

  /** Destroys the kept-alive connections. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agent(protocol: string): HttpAgent {
    let agent = this.agents.get(protocol);
    if (agent === undefined) {
      if (protocol === 'https:') {
        this.trust ??= gitTrust(this.env);
        if (!this.trust.ok) throw new UseGit(this.trust.error);
        // Both explicit, so that nothing in Node's environment (NODE_TLS_REJECT_UNAUTHORIZED,
        // NODE_EXTRA_CA_CERTS) changes what is trusted: the authorities git trusts, verified always.
        agent = new HttpsAgent({ keepAlive: true, ca: this.trust.value, rejectUnauthorized: true });
      } else {
        agent = new HttpAgent({ keepAlive: true });
      }
      this.agents.set(protocol, agent);
    }
    return agent;
  }

  async list(url: string, patterns: RefPatterns, call: HttpCall): Promise<RefListing> {
    const origin = new URL(url);
    const { deadline, done } = this.deadlines.start(call.timeoutMs, call.signal);
    // The base URL the later request goes to: the first one's, after its redirects (git's http.followRedirects=initial).
    let base = url.replace(/\/+$/, '');
    const requested = base;
    const authorization =
      call.credentials === undefined ? undefined : `Basic ${Buffer.from(`${call.credentials.username}:${call.credentials.password}`).toString('base64')}`;
    const exchange = async (method: string, requestUrl: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Answer> => {
      const first = method === 'GET';
      let target = new URL(first ? requestUrl : `${base}${requestUrl.slice(requested.length)}`);
      for (let hops = 0; ; hops++) {
        // Credentials go with a request only to the configured scheme and host.
        const auth = authorization !== undefined && target.protocol === origin.protocol && target.host === origin.host ? authorization : undefined;
        const res = await this.send(target, method, auth === undefined ? headers : { ...headers, authorization: auth }, body, deadline);
        const location = res.headers.location;
        if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location !== undefined) {
          res.resume();
          const next = new URL(location, target);
          if (!first || hops >= MAX_REDIRECTS || (next.protocol !== 'http:' && next.protocol !== 'https:')) throw new UseGit('the server redirects');
          if (next.protocol === 'https:' && this.unsupported(next) !== undefined) throw new UseGit('the server redirects');
          target = next;
          continue;
        }
        const href = target.href;
        if (first) {
          if (!href.endsWith(SERVICE)) throw new UseGit('the server redirects to an unusual address');
          base = href.slice(0, -SERVICE.length);
        }
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          throw httpFailure(status, call, target, auth !== undefined);
        }
        const type = res.headers['content-type'] ?? '';
        const expected = first ? 'application/x-git-upload-pack-advertisement' : 'application/x-git-upload-pack-result';
        // A dumb HTTP server or a web page: git knows what to make of it.
        if (type !== expected) {
          res.resume();
          throw new UseGit(`the server answers with '${type.slice(0, 60)}'`);
        }
        const data = await readBody(res, call.context);
        deadline.watch(undefined);
        if (data === undefined) {
          if (first) this.large.add(url);
          throw new UseGit(`its answer is larger than ${MAX_BODY / 1024 / 1024} MiB`);
        }
        const problem = deadline.ended !== undefined ? undefined : pktLineProblem(data);
        if (problem !== undefined) throw protocolError(problem, call);
        if (first && data.length > LARGE_ADVERTISEMENT) this.large.add(url);
        return { url: href, method, status, statusMessage: res.statusMessage ?? '', headers: res.headers, data };
      }
    };
    try {
      let advertised: Answer | undefined;
      // Chosen before the first answer, which may mark the remote large for the checks after this one.
      const protocolVersion = this.large.has(url) ? 2 : 1;
      if (protocolVersion === 1) {
        // The one request of most checks, read here; isomorphic-git reads what this does not (and v2).
        advertised = await exchange('GET', `${url}${SERVICE}`, {}, undefined);
        const listing = readAdvertisement(advertised.data, patterns);
        if (listing !== undefined) return listing;
      }
      return await this.listWithIsomorphicGit(url, patterns, call, protocolVersion, async (req) => {
        // Its first request is the one just made: answered again, not asked again.
        const answer =
          advertised !== undefined && (req.method ?? 'GET') === 'GET'
            ? advertised
            : await exchange(req.method ?? 'GET', req.url, req.headers ?? {}, req.body === undefined ? undefined : await collect(req.body));
        advertised = undefined;
        const headers = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
        return { url: answer.url, method: answer.method, headers, body: once(answer.data), statusCode: answer.status, statusMessage: answer.statusMessage };
      });
    } catch (error) {
      if (call.signal?.aborted || deadline.ended === 'aborted') throw new GitError('aborted', `${call.context}: stopped`);
      if (deadline.ended === 'timeout') throw new GitError('timeout', `${call.context}: git timed out after ${Math.round(call.timeoutMs / 1000)}s`);
      if (error instanceof GitError || error instanceof UseGit) throw error;
      throw networkFailure(error, call);
    } finally {
      done();
    }
  }

  /** isomorphic-git's listing (protocol v2 with a ref prefix, or a v0 answer of another shape), over `request`. */
  private async listWithIsomorphicGit(
    url: string,
    patterns: RefPatterns,
    call: HttpCall,
    protocolVersion: 1 | 2,
    request: (req: GitHttpRequest) => Promise<GitHttpResponse>,
  ): Promise<RefListing> {
    const { listServerRefs } = await import('./ls-refs-protocol.js');
    const prefix = patterns.length === 1 ? patterns[0] : undefined;
    const refs: ServerRef[] = await listServerRefs({ http: { request }, url, protocolVersion, symrefs: true, peelTags: true, ...(prefix ? { prefix } : {}) });
    const listing = serverRefsListing(refs, patterns);
    if (typeof listing === 'string') throw protocolError(listing, call);
    return listing;
  }

  private send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, deadline: Deadline): Promise<IncomingMessage> {
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      if (deadline.ended !== undefined) return reject(new Error('the check has ended'));
      // Options rather than the URL: Node would take the URL apart again for each request.
      const req = make({
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        agent: this.agent(url.protocol),
        headers: { 'user-agent': 'git/gitwatch', ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      });
      // The deadline ends the request, and with it the answer being read.
      deadline.watch((error) => req.destroy(error));
      req.once('response', resolve);
      req.once('error', reject);
      req.end(body);
    });
  }
}

/** isomorphic-git's refs as a listing, or git's words for a ref that is not one. */
export function serverRefsListing(refs: readonly ServerRef[], patterns: RefPatterns): RefListing | string {
  const listing = new RefListingBuilder(patterns);
  for (const ref of refs) {
    // A frame whose data is not a ref: git says so, isomorphic-git passes it on.
    for (const oid of [ref.oid, ...(ref.peeled === undefined ? [] : [ref.peeled])]) {
      if (!isSha(oid)) return `protocol error: expected sha/ref, got '${escapeControls(`${oid} ${ref.ref}`.slice(0, 200))}'`;
    }
    listing.add(ref.ref, ref.oid);
    if (ref.peeled !== undefined) listing.add(`${ref.ref}^{}`, ref.peeled);
    if (ref.target !== undefined) listing.symref(ref.ref, ref.target);
  }
  return listing.build();
}

interface Answer {
  readonly url: string;
  readonly method: string;
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  readonly data: Buffer;
}

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

/** The whole body; undefined past MAX_BODY (git reads such an answer); an error past MAX_FLOOD. */
function readBody(res: IncomingMessage, context: string): Promise<Buffer | undefined> {
  // Events rather than an async iterator: a promise per chunk costs more than most answers' parsing.
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FLOOD) {
        res.destroy();
        // Not handed to git: it would read the same flood into memory, without any limit but git_timeout.
        reject(
          new GitError(
            'too-large',
            `${context}: the remote sends too much: its ref advertisement passed ${MAX_FLOOD / 1024 / 1024} MiB, and a check reads no more`,
          ),
        );
      } else if (size > MAX_BODY) {
        // Past MAX_BODY the answer is only counted, to tell a large remote (git reads it) from a flood.
        parts.length = 0;
      } else {
        parts.push(chunk);
      }
    });
    res.once('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(parts, size)));
    res.once('error', reject);
    // Cut off before its end (the deadline, a shutdown, the server): whatever came is not an answer.
    res.once('close', () => {
      if (!res.complete) reject(new Error('the answer was cut off'));
    });
  });
}

function once(data: Buffer): AsyncIterableIterator<Uint8Array> {
  return (async function* () {
    yield await Promise.resolve(data);
  })();
}

/** An answer that breaks the protocol: the server's fault, and transient, as git's own "protocol error" is (classify.ts). */
function protocolError(problem: string, call: HttpCall): GitError {
  return new GitError('server-error', `${call.context}: server error: ${problem}`);
}

/** What git would have said for this status, classified the same way. */
function httpFailure(status: number, call: HttpCall, target: URL, sentCredentials: boolean): GitError | UseGit {
  const url = `${call.context.replace(/^checking /, '')}/`;
  if (status === 401) {
    // git has nothing to offer a host its credentials are not for, and says so for that host.
    return classifyGitFailure(
      sentCredentials
        ? `fatal: Authentication failed for '${url}'`
        : `fatal: could not read Username for '${target.protocol}//${target.host}': terminal prompts disabled`,
      call.context,
    );
  }
  if (status === 404) return classifyGitFailure(`fatal: repository '${url}' not found`, call.context);
  if (status === 403 || status === 429 || status >= 500) {
    return classifyGitFailure(`fatal: unable to access '${url}': The requested URL returned error: ${status}`, call.context);
  }
  return new UseGit(`the server answers HTTP ${status}`);
}

function networkFailure(error: unknown, call: HttpCall): GitError | UseGit {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const url = `${call.context.replace(/^checking /, '')}/`;
  const say = (what: string): GitError => classifyGitFailure(`fatal: unable to access '${url}': ${what}`, call.context);
  switch (code) {
    case 'ECONNREFUSED':
      return say('Failed to connect: Connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return say(`Could not resolve host: ${new URL(url).hostname}`);
    case 'ECONNRESET':
    case 'EPIPE':
      return say('Connection reset by peer');
    case 'ETIMEDOUT':
      return say('Connection timed out');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return say('No route to host');
  }
  if (TLS_CODE.test(code)) return new UseGit(`Node refused the server's certificate (${code})`);
  return new UseGit(`the answer could not be read here (${(error as Error).message.slice(0, 80)})`);
}

/** The proxy variable that applies to `url`, as curl reads them, unless NO_PROXY exempts its host. */
function proxyFor(url: URL, env: Env): string | undefined {
  // curl ignores upper-case HTTP_PROXY (a CGI script could be handed one by a client's Proxy header).
  const names = url.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] : ['http_proxy', 'all_proxy', 'ALL_PROXY'];
  const name = names.find((n) => (env[n] ?? '') !== '');
  if (name === undefined) return undefined;
  const noProxy = (env['no_proxy'] ?? env['NO_PROXY'] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const exempt = noProxy.some((entry) => {
    if (entry === '*') return true;
    const bare = entry.replace(/^\./, '').replace(/:\d+$/, '');
    return host === bare || host.endsWith(`.${bare}`);
  });
  return exempt ? undefined : name;
}
