// A config's top-level values from YAML that may have errors (a duplicate key, a broken line further
// down): what finds the state file and the workdir when the config does not validate (see locate.ts).
// Loaded only then.

import { isAlias, isMap, isScalar, parseDocument } from 'yaml';

/** The top-level keys and their plain values; empty when the document is not a map. */
export function topLevelValues(text: string): Map<string, unknown> {
  const values = new Map<string, unknown>();
  try {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (!isMap(doc.contents)) return values;
    for (const pair of doc.contents.items) {
      // A key written twice (an error the daemon's own config cannot have): the first counts.
      if (isScalar(pair.key) && typeof pair.key.value === 'string' && !values.has(pair.key.value)) {
        const node = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
        values.set(pair.key.value, isScalar(node) ? node.value : undefined);
      }
    }
  } catch {
    // Not YAML at all: no values, so the defaults.
  }
  return values;
}
