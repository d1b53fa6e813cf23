// Which remotes gitwatch accepts, and how a URL is split into what git sees and what stays secret.
// Checked before any git process starts: nothing here may reach git as an option or a helper transport.

import path from 'node:path';
import type { Credentials, Result } from '../domain.js';

export type Transport = 'https' | 'http' | 'ssh' | 'git' | 'file' | 'local';

export interface ParsedRemote {
  readonly transport: Transport;
  /** What git is given: credentials removed, local paths absolute. */
  readonly remote: string;
  /** For output, the lock and GITWATCH_URL. */
  readonly display: string;
  readonly credentials: Credentials | undefined;
}

export type RemoteResult = Result<ParsedRemote, string>;

const MAX_URL = 2048;
const SCP_LIKE = /^(?:[^@/:\s]+@)?[A-Za-z0-9.-]+:(?!\/\/)/;

export function parseRemote(url: string, baseDir: string): RemoteResult {
  const fail = (error: string): RemoteResult => ({ ok: false, error });
  if (url.length > MAX_URL) return fail(`url is longer than ${MAX_URL} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(url)) return fail('url contains a control character');
  if (url.startsWith('-')) return fail(`url may not start with '-' (git would read it as an option)`);
  const helper = /^([A-Za-z][A-Za-z0-9+.-]*)::/.exec(url);
  if (helper) return fail(`the '${helper[1]}::' transport is not allowed; use https, http, ssh, git, file or a local path`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) return parseSchemeUrl(url, scheme);
  if (SCP_LIKE.test(url) && !url.startsWith('/') && !url.startsWith('.')) {
    const host = url.slice(url.indexOf('@') + 1, url.indexOf(':'));
    if (host.startsWith('-')) return fail(`the host in url may not start with '-'`);
    return { ok: true, value: { transport: 'ssh', remote: url, display: url, credentials: undefined } };
  }
  const local = path.resolve(baseDir, url);
  return { ok: true, value: { transport: 'local', remote: local, display: url, credentials: undefined } };
}

function parseSchemeUrl(url: string, scheme: string): RemoteResult {
  const allowed: Readonly<Record<string, Transport>> = {
    https: 'https',
    http: 'http',
    ssh: 'ssh',
    'git+ssh': 'ssh',
    'ssh+git': 'ssh',
    git: 'git',
    file: 'file',
  };
  const transport = allowed[scheme];
  if (transport === undefined) return { ok: false, error: `the '${scheme}://' transport is not allowed; use https, http, ssh, git, file or a local path` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, error: `url is not a valid ${scheme} URL` };
  }
  if (parsed.hostname.startsWith('-')) return { ok: false, error: `the host in url may not start with '-'` };
  const username = decoded(parsed.username);
  const password = decoded(parsed.password);
  // A token with a stray '%' is a config mistake to point at, not a crash.
  if (username === undefined || password === undefined) return { ok: false, error: `the credentials in url have a '%' that is not followed by two hex digits` };
  if (username.startsWith('-')) return { ok: false, error: `the user in url may not start with '-'` };
  if (/[\r\n]/.test(username + password)) return { ok: false, error: 'url credentials contain a line break' };
  if (transport !== 'http' && transport !== 'https') {
    // Only http(s) credentials can be handed to git outside the URL; anywhere else a password would leak.
    if (parsed.password !== '')
      return { ok: false, error: `a password in a ${scheme}:// URL is not allowed (it would show in process lists and the state); use ssh_key for SSH` };
    return { ok: true, value: { transport, remote: url, display: url, credentials: undefined } };
  }
  if (parsed.username === '' && parsed.password === '') return { ok: true, value: { transport, remote: url, display: url, credentials: undefined } };
  // Any userinfo of an http(s) URL may be a token, a lone user name included.
  const credentials = { username, password };
  parsed.username = '';
  parsed.password = '';
  const bare = parsed.toString();
  return { ok: true, value: { transport, remote: bare, display: bare, credentials } };
}

/** Removes userinfo from any http(s) URL inside `text`: for error messages that quote git. */
export function redactUrls(text: string): string {
  return text.replace(/(https?:\/\/)[^/@\s]+@/gi, '$1');
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
