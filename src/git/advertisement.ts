// The v0 ref advertisement of smart HTTP, read straight into a listing: the answer of nearly every check of
// an HTTP remote, and most of what a check costs besides the request. Only the shape every server sends is
// read here (the service line, a flush, one ref a line in ASCII with the capabilities after the first, a
// flush), and read as isomorphic-git reads it, so that the listing is the one its parser gives. Anything
// else (a server that speaks v2 unasked, metadata lines, repeated names, bytes outside ASCII) returns
// undefined, and isomorphic-git reads the same answer as before.

import { RefListingBuilder, type RefListing, type RefPatterns } from './refs.js';

const SERVICE_LINE = '# service=git-upload-pack\n';
/** The service line as a pkt-line, then a flush. */
const HEAD = `${(SERVICE_LINE.length + 4).toString(16).padStart(4, '0')}${SERVICE_LINE}0000`;
/** The placeholder ref of a repository that has none (git's "no-refs"). */
const NO_REFS = '0000000000000000000000000000000000000000 capabilities^{}';
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const SYMREF = /symref=([^:]+):(.*)/;

/** The listing for `patterns` of a whole answer whose framing was checked (pkt-line.ts), or undefined. */
export function readAdvertisement(data: Buffer, patterns: RefPatterns): RefListing | undefined {
  // latin1 keeps one character a byte, so offsets are byte offsets; the ASCII test below makes it utf8's text too.
  const text = data.toString('latin1');
  if (!text.startsWith(HEAD) || !text.endsWith('0000')) return undefined;
  const lines: string[] = [];
  let at = HEAD.length;
  const end = text.length - 4;
  while (at < end) {
    const length = Number.parseInt(text.slice(at, at + 4), 16);
    // A flush or delimiter before the last: isomorphic-git reads on past it, git stops.
    if (!(length > 4)) return undefined;
    lines.push(text.slice(at + 4, at + length));
    at += length;
  }
  if (at !== end || lines.length === 0) return undefined;
  const first = lines[0] ?? '';
  const nul = first.indexOf('\0');
  if (nul < 0 || first.indexOf('\0', nul + 1) >= 0) return undefined;
  const capabilities = chomp(first.slice(nul + 1));
  if (capabilities === undefined || first.includes('version 2')) return undefined;
  const symrefs = new Map<string, string>();
  for (const capability of capabilities.split(' ')) {
    if (!capability.startsWith('symref=')) continue;
    const m = SYMREF.exec(capability);
    if (m?.[1] === undefined || m[2] === undefined) return undefined;
    symrefs.set(m[1], m[2]);
  }
  const refs: { name: string; oid: string }[] = [];
  const seen = new Set<string>();
  lines[0] = first.slice(0, nul);
  // A repository without refs: isomorphic-git reads no further line.
  if (lines[0] !== NO_REFS) {
    for (const [i, raw] of lines.entries()) {
      const line = i === 0 ? raw : chomp(raw);
      const space = line?.indexOf(' ') ?? -1;
      if (line === undefined || (space !== 40 && space !== 64)) return undefined;
      const oid = line.slice(0, space);
      const name = line.slice(space + 1);
      if (!OID.test(oid) || name === '' || !/^[\x21-\x7e]+$/.test(name) || seen.has(name)) return undefined;
      seen.add(name);
      refs.push({ name, oid });
    }
  }
  // As isomorphic-git lists them: a peeled `^{}` line belongs to the tag listed before it, and is dropped without one.
  const listing = new RefListingBuilder(patterns);
  const prefix = patterns.length === 1 ? patterns[0] : undefined;
  const listed = new Set<string>();
  for (const { name, oid } of refs) {
    if (prefix !== undefined && !name.startsWith(prefix)) continue;
    if (name.endsWith('^{}')) {
      if (listed.has(name.slice(0, -3))) listing.add(name, oid);
      continue;
    }
    listed.add(name);
    listing.add(name, oid);
    const target = symrefs.get(name);
    if (target !== undefined) listing.symref(name, target);
  }
  return listing.build();
}

/** The line without its one ending newline, when nothing else in it is a control character or outside ASCII. */
function chomp(line: string): string | undefined {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  return /^[\x20-\x7e]*$/.test(body) && body.trim() === body ? body : undefined;
}
