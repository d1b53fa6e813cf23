// Is a webhook from whoever holds the repo's secret, and what is it about? GitHub and Gitea sign the body
// (HMAC-SHA256, hex); GitLab sends the secret itself as a token. Every comparison takes the same time
// whatever the guess. The event and the delivery id come from headers the forges set.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

export function verifyPush(headers: IncomingHttpHeaders, body: Buffer, secret: string): boolean {
  const github = headers['x-hub-signature-256'];
  if (typeof github === 'string') return github.startsWith('sha256=') && signatureMatches(github.slice('sha256='.length), body, secret);
  const gitea = headers['x-gitea-signature'];
  if (typeof gitea === 'string') return signatureMatches(gitea, body, secret);
  const gitlab = headers['x-gitlab-token'];
  if (typeof gitlab === 'string') return tokenMatches(gitlab, secret);
  return false;
}

function signatureMatches(hex: string, body: Buffer, secret: string): boolean {
  // The length of a well-formed signature is public; only its content is compared in constant time.
  if (!HEX_SHA256.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** Hashing both sides first makes them equal in length, so not even the secret's length leaks. */
function tokenMatches(token: string, secret: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(token), digest(secret));
}

/** What a signed delivery is about: a push or a tag (start a check), GitHub's ping, or anything else. */
export type HookEvent = 'push' | 'ping' | 'other';

/**
 * The event, from the forge's event header: GitHub's and Gitea's `push`, and `create` of a tag; GitLab's
 * `Push Hook` and `Tag Push Hook`. A request without any event header (a hand-made `curl`) counts as a push.
 */
export function hookEvent(headers: IncomingHttpHeaders, body: Buffer): HookEvent {
  const name = header(headers, 'x-gitlab-event') ?? header(headers, 'x-gitea-event') ?? header(headers, 'x-gogs-event') ?? header(headers, 'x-github-event');
  switch (name) {
    case undefined:
    case 'push':
    case 'Push Hook':
    case 'Tag Push Hook':
      return 'push';
    case 'create':
      return refType(headers, body) === 'tag' ? 'push' : 'other';
    case 'ping':
      return 'ping';
    default:
      return 'other';
  }
}

/** The delivery's id, which a forge keeps when it sends the same delivery again. */
export function deliveryId(headers: IncomingHttpHeaders): string | undefined {
  return header(headers, 'x-gitea-delivery') ?? header(headers, 'x-github-delivery') ?? header(headers, 'x-gitlab-event-uuid');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `ref_type` of a create event: JSON, or GitHub's form encoding (`payload=<JSON>`). */
function refType(headers: IncomingHttpHeaders, body: Buffer): unknown {
  let text = body.toString('utf8');
  if (/^application\/x-www-form-urlencoded/i.test(headers['content-type'] ?? '')) text = new URLSearchParams(text).get('payload') ?? '';
  try {
    const payload = JSON.parse(text) as unknown;
    return typeof payload === 'object' && payload !== null ? (payload as { ref_type?: unknown }).ref_type : undefined;
  } catch {
    return undefined;
  }
}
