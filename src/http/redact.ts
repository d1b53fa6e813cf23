// What the status page sends is scrubbed on its way out, whatever it came from: every secret's value
// becomes `***` (as step output is masked), and URLs lose their userinfo. A second line of defence:
// the status and the events should hold neither in the first place.

import { MASK, maskableSecrets } from '../rules/secret-mask.js';
import { redactUrls } from '../rules/remote-url.js';

export type Scrub = (text: string) => string;

export function scrubber(values: Iterable<string | undefined>): Scrub {
  const secrets = maskableSecrets(values);
  return (text) => {
    let out = text;
    // Longest first (maskableSecrets), so a secret that holds another is masked whole.
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out.includes('@') ? redactUrls(out) : out;
  };
}

/** `value` with every string in it scrubbed, keys included; the shape stays, so its JSON stays valid. */
export function scrubbed<T>(value: T, scrub: Scrub): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubbed(v, scrub)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[scrub(k)] = scrubbed(v, scrub);
    return out as T;
  }
  return value;
}
