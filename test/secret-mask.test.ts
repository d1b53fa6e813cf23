// The streaming masker: however the output is cut into chunks, what comes out is the whole output with
// every secret masked, and it never holds back more than the longest secret's length minus one byte.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { maskableSecrets, maskText, StreamMasker } from '../src/rules/secret-mask.js';

/** The reference, on bytes: left to right, at each position the longest secret that starts there. */
function naive(input: Buffer, secrets: readonly string[]): Buffer {
  const sorted = secrets.map((s) => Buffer.from(s)).sort((a, b) => b.length - a.length);
  const out: Buffer[] = [];
  for (let i = 0; i < input.length;) {
    const hit = sorted.find((s) => s.length > 0 && input.subarray(i, i + s.length).equals(s));
    if (hit === undefined) out.push(input.subarray(i, ++i));
    else {
      out.push(Buffer.from('***'));
      i += hit.length;
    }
  }
  return Buffer.concat(out);
}

describe('secret masking', () => {
  test('whole texts: every occurrence, the longer of two secrets that start together, nothing shorter than 4 characters', () => {
    const secrets = maskableSecrets(['abcd', 'abcdef', 'xy', 'abc', undefined, 'p@ss/w0rd']);
    assert.deepEqual(secrets, ['p%40ss%2Fw0rd', 'p@ss/w0rd', 'abcdef', 'abcd']);
    assert.equal(maskText('abcdef abcd abc xy p%40ss%2Fw0rd p@ss/w0rd', secrets), '*** *** abc xy *** ***');
    assert.equal(maskText('ünïcödé-secret', maskableSecrets(['ünïcödé'])), '***-secret');
  });

  test('a secret split across chunks is masked, and what could still become one is held back only that long', () => {
    const masker = new StreamMasker(maskableSecrets(['hook-secret-value']));
    const out: string[] = [];
    out.push(masker.push(Buffer.from('before hook-sec')).toString());
    assert.equal(out.join(''), 'before ', 'the possible start of the secret waits');
    out.push(masker.push(Buffer.from('ret-value after h')).toString());
    assert.equal(out.join(''), 'before *** after ');
    out.push(masker.push(Buffer.from('ello\n')).toString());
    out.push(masker.end().toString());
    assert.equal(out.join(''), 'before *** after hello\n');
  });

  test('any chunking gives the same output as masking the whole text', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', 'é', '\n');
    const word = fc.array(alphabet, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 4 }),
        fc.array(word, { maxLength: 30 }),
        fc.array(fc.nat(40), { maxLength: 10 }),
        (values, words, cuts) => {
          const secrets = maskableSecrets(values);
          const text = words.join('');
          const bytes = Buffer.from(text);
          const at = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
          const masker = new StreamMasker(secrets);
          const longest = Math.max(0, ...secrets.map((s) => Buffer.byteLength(s)));
          const out: Buffer[] = [];
          for (const [i, end] of [...at, bytes.length].entries()) {
            out.push(masker.push(bytes.subarray(i === 0 ? 0 : (at[i - 1] ?? 0), end)));
            // The output so far is the masked input up to some point; what lies past it is held back.
            const shown = Buffer.concat(out);
            let covered = end;
            while (covered > 0 && !naive(bytes.subarray(0, covered), secrets).equals(shown)) covered--;
            assert.ok(naive(bytes.subarray(0, covered), secrets).equals(shown), 'the output is a masked prefix of the input');
            assert.ok(end - covered <= Math.max(0, longest - 1), `held back ${end - covered} bytes`);
          }
          out.push(masker.end());
          assert.equal(Buffer.concat(out).toString(), naive(bytes, secrets).toString());
          assert.equal(maskText(text, secrets), naive(bytes, secrets).toString());
        },
      ),
      { numRuns: 2000 },
    );
  });
});
