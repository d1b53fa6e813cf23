// A commit's message read from the store's files, without a git process. After a shallow fetch of a few
// objects (below git's `fetch.unpackLimit`, 100), the head commit is a loose object: a zlib-deflated file
// named by its SHA-1. Reading it here saves one process per new commit (the skip-marker check), which on a
// busy daemon is most of what a check that finds a new commit costs gitwatch itself. Anything unusual (a
// packed object, a message in another encoding, a file that does not hash to its name) is left to git.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

/** The message of commit `sha` (40 hex) if it is a loose object in `store`; undefined: ask git. */
export async function looseCommitMessage(store: string, sha: string): Promise<string | undefined> {
  let raw: Buffer;
  try {
    raw = inflateSync(await readFile(path.join(store, 'objects', sha.slice(0, 2), sha.slice(2))));
  } catch {
    return undefined;
  }
  // What git would check before trusting the file: that it is the object its name says.
  if (createHash('sha1').update(raw).digest('hex') !== sha) return undefined;
  const nul = raw.indexOf(0);
  if (nul === -1 || !/^commit \d+$/.test(raw.subarray(0, nul).toString('latin1'))) return undefined;
  const body = raw.subarray(nul + 1);
  const end = body.indexOf('\n\n');
  if (end === -1) return undefined;
  // git log re-encodes such a message to UTF-8; that is git's job.
  if (/^encoding /m.test(body.subarray(0, end).toString('latin1'))) return undefined;
  return body.subarray(end + 2).toString('utf8');
}
