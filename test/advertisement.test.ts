// The v0 advertisement read without isomorphic-git must list what isomorphic-git's parser lists (which the
// ref-listing tests hold against `git ls-remote`), or decline and leave the answer to it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { listServerRefs } from 'isomorphic-git';
import { readAdvertisement } from '../src/git/advertisement.js';
import { serverRefsListing } from '../src/git/http-refs.js';
import { pktLineProblem } from '../src/git/pkt-line.js';
import type { RefListing, RefPatterns } from '../src/git/refs.js';

function pkt(line: string): string {
  return `${(Buffer.byteLength(line, 'utf8') + 4).toString(16).padStart(4, '0')}${line}`;
}

/** isomorphic-git's listing of one answer, as http-refs.ts makes it (an error as its message). */
async function isomorphic(data: Buffer, patterns: RefPatterns): Promise<unknown> {
  const prefix = patterns.length === 1 ? patterns[0] : undefined;
  let asked = false;
  const http = {
    request: () => {
      if (asked) return Promise.reject(new Error('a second request'));
      asked = true;
      return Promise.resolve({
        url: 'http://127.0.0.1/site/info/refs?service=git-upload-pack',
        method: 'GET',
        headers: { 'content-type': 'application/x-git-upload-pack-advertisement' },
        body: (async function* () {
          yield await Promise.resolve(data);
        })(),
        statusCode: 200,
        statusMessage: 'OK',
      });
    },
  };
  try {
    const refs = await listServerRefs({ http, url: 'http://127.0.0.1/site', protocolVersion: 1, symrefs: true, peelTags: true, ...(prefix ? { prefix } : {}) });
    const listing = serverRefsListing(refs, patterns);
    return typeof listing === 'string' ? { error: listing } : plain(listing);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function plain(listing: RefListing): object {
  return { head: listing.head, refs: Object.fromEntries(listing.refs), peeled: Object.fromEntries(listing.peeled) };
}

const SHA = 'a'.repeat(40);
const OTHER = '0123456789abcdef0123456789abcdef01234567';
const SERVICE = `${pkt('# service=git-upload-pack\n')}0000`;
const CAPS = 'multi_ack thin-pack side-band ofs-delta shallow no-progress include-tag symref=HEAD:refs/heads/main object-format=sha1 agent=git/2.47.3';

test('the usual answers: the same listing as isomorphic-git for every kind of pattern', async () => {
  const answers = [
    // git http-backend: HEAD first, branches, a light and an annotated tag.
    [
      `${SHA} HEAD\0${CAPS}\n`,
      `${SHA} refs/heads/main\n`,
      `${OTHER} refs/heads/feature\n`,
      `${SHA} refs/tags/light\n`,
      `${OTHER} refs/tags/v1\n`,
      `${SHA} refs/tags/v1^{}\n`,
    ],
    // An empty repository.
    [`0000000000000000000000000000000000000000 capabilities^{}\0${CAPS}\n`],
    // HEAD detached (no symref), no newline at the ends of lines, a peeled line without its tag.
    [`${SHA} HEAD\0multi_ack`, `${SHA} refs/heads/main`, `${SHA} refs/tags/gone^{}`],
    // SHA-256.
    [`${'b'.repeat(64)} HEAD\0symref=HEAD:refs/heads/trunk object-format=sha256\n`, `${'b'.repeat(64)} refs/heads/trunk\n`],
  ];
  for (const lines of answers) {
    const data = Buffer.from(`${SERVICE}${lines.map(pkt).join('')}0000`, 'utf8');
    assert.equal(pktLineProblem(data), undefined);
    for (const patterns of [['HEAD'], ['refs/heads/main'], ['refs/heads/'], ['refs/tags/'], ['refs/tags/v1'], ['HEAD', 'refs/heads/'], ['refs/heads/nope']]) {
      const fast = readAdvertisement(data, patterns);
      assert.ok(fast !== undefined, `declined: ${lines.join(' | ')}`);
      assert.deepEqual(plain(fast), await isomorphic(data, patterns), `${lines.join(' | ')} for ${patterns.join(' ')}`);
    }
  }
});

test('any answer read here is read as isomorphic-git reads it', async () => {
  // Mostly what servers send, with now and then one thing that is not.
  const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc.oneof({ arbitrary: usual, weight: 12 }, { arbitrary: odd, weight: 1 });
  const name = mostly(
    fc.constantFrom('HEAD', 'refs/heads/main', 'refs/heads/feature', 'refs/tags/v1', 'refs/tags/v1^{}', 'refs/tags/v2^{}', 'refs/tags/v10', '.have'),
    fc.oneof(
      fc.constantFrom('capabilities^{}', 'version 2', 'refs/heads/ma in', 'refs/heads/é'),
      fc.string({ unit: fc.constantFrom('r', 'e', 'f', 's', '/', '^', '{', '}', ' ', '\t', '\n', '\0', 'é', 'h'), maxLength: 12 }),
    ),
  );
  const oid = mostly(fc.constantFrom(SHA, OTHER, 'c'.repeat(64)), fc.constantFrom('0'.repeat(40), 'A'.repeat(40), 'a'.repeat(39), ''));
  const caps = mostly(
    fc.constantFrom(CAPS, '', 'symref=HEAD:refs/heads/feature', 'multi_ack symref=HEAD:refs/heads/v1 symref=HEAD:refs/heads/main'),
    fc.constantFrom('symref=HEAD', ' symref=HEAD:refs/heads/main ', 'version 2', 'a\0b', 'x\ty'),
  );
  const line = fc.tuple(oid, mostly(fc.constant(' '), fc.constantFrom('  ', '\t')), name, mostly(fc.constantFrom('\n', ''), fc.constantFrom(' \n', '\n\n')));
  const answer = fc.record({
    service: mostly(
      fc.constant(SERVICE),
      fc.constantFrom(
        `${pkt('# service=git-upload-pack')}0000`,
        `0000${SERVICE}`,
        `${pkt('# service=git-upload-pack\n')}${pkt('x\n')}0000`,
        pkt('version 2\n'),
      ),
    ),
    first: fc.tuple(line, caps),
    rest: fc.array(line, { maxLength: 6 }),
    tail: mostly(fc.constant('0000'), fc.constantFrom('', `0000${pkt(`${SHA} refs/heads/late\n`)}0000`, '0001', '00000000', '0002')),
  });
  const patterns = fc.constantFrom<RefPatterns>(['HEAD'], ['refs/heads/main'], ['refs/heads/'], ['refs/tags/'], ['refs/tags/v1'], ['HEAD', 'refs/heads/']);
  await fc.assert(
    fc.asyncProperty(answer, patterns, async (a, p) => {
      const [[o, sep, n, end], c] = a.first;
      const first = `${o}${sep}${n}\0${c}${end}`;
      const rest = a.rest.map(([o2, s2, n2, e2]) => `${o2}${s2}${n2}${e2}`);
      const data = Buffer.from(`${a.service}${[first, ...rest].map(pkt).join('')}${a.tail}`, 'utf8');
      // Only framing that passed pkt-line.ts reaches either parser.
      if (pktLineProblem(data) !== undefined) return;
      const fast = readAdvertisement(data, p);
      if (fast !== undefined) assert.deepEqual(plain(fast), await isomorphic(data, p));
    }),
    { numRuns: 3000 },
  );
});
