// The state file's text is built from each entry's cached text. It must be exactly what one
// JSON.stringify of the whole state with sorted keys gives, however the state was reached.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { serializeState, type RepoState, type State } from '../src/state/state-file.js';

/** The oracle: the whole state sorted and serialized in one go, undefined members left out. */
function oracle(state: State): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (typeof value !== 'object' || value === null) return value;
    const object = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(object)
        .filter((k) => object[k] !== undefined)
        .sort()
        .map((k) => [k, sorted(object[k])]),
    );
  };
  return `${JSON.stringify(sorted(state), null, 2)}\n`;
}

// Names and text with quotes, newlines, escapes and the marker's own characters.
const text = fc.string({ unit: fc.constantFrom('a', 'b', '"', '\\', '\n', '\u0000', 'é', ' ', 'repos', ':') });
const entry: fc.Arbitrary<RepoState> = fc.dictionary(text, fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }), { maxKeys: 5 });
const repos = fc.dictionary(text, fc.option(entry, { freq: 5, nil: undefined }), { maxKeys: 6 });

describe('state file text', () => {
  test('is the sorted JSON of the whole state, for any entries and names', () => {
    fc.assert(
      fc.property(repos, fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), (r, extra) => {
        const state = { ...extra, version: 1, repos: r } as State;
        assert.equal(serializeState(state), oracle(state));
      }),
      { numRuns: 500 },
    );
  });

  test('stays exact as entries are replaced one at a time, old entries shared between states', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), entry), { minLength: 1, maxLength: 12 }), (changes) => {
        let state: State = { version: 1, repos: {} };
        for (const [name, value] of changes) {
          state = { ...state, repos: { ...state.repos, [name]: value } };
          assert.equal(serializeState(state), oracle(state));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('an empty state', () => {
    assert.equal(serializeState({ version: 1, repos: {} }), '{\n  "repos": {},\n  "version": 1\n}\n');
  });
});
