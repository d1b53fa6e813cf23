// Is a push webhook from whoever holds the repo's secret? GitHub and Gitea sign the body (HMAC-SHA256,
// hex); GitLab sends the secret itself as a token. Every comparison takes the same time whatever the guess.

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
