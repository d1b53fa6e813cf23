// Secrets out of output, as CI systems mask them: every occurrence of a secret's value becomes `***`.
// Step output comes in chunks, and a secret can be split between two of them, so the streaming masker
// holds back the end of a chunk while it could still be the start of a secret (at most the longest
// secret's length minus one byte) and lets it go with the next chunk, or at the end.
//
// Masking goes by value, on bytes: a value shorter than MIN_SECRET_LENGTH characters is not masked, since
// masking "a" or "on" would wreck the output and hide nothing worth hiding.

export const MASK = '***';
export const MIN_SECRET_LENGTH = 4;

/**
 * The values to mask: each long enough, and also as it is written inside a URL (percent-encoded) when
 * that differs. Longest first, so a secret that contains another is masked whole.
 */
export function maskableSecrets(values: Iterable<string | undefined>): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (value === undefined || [...value].length < MIN_SECRET_LENGTH) continue;
    out.add(value);
    out.add(encodeURIComponent(value));
  }
  return [...out].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** `text` with every secret masked: for whole texts (a notification body), not for streams. */
export function maskText(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  const masker = new StreamMasker(secrets);
  return Buffer.concat([masker.push(Buffer.from(text)), masker.end()]).toString();
}

/** One output stream: push chunks in, get masked bytes out; `end` lets go of what was held back. */
export class StreamMasker {
  private readonly secrets: readonly Buffer[];
  private readonly longest: number;
  private carry: Buffer = Buffer.alloc(0);

  constructor(secrets: readonly string[]) {
    this.secrets = secrets.filter((s) => s !== '').map((s) => Buffer.from(s));
    this.longest = Math.max(0, ...this.secrets.map((s) => s.length));
  }

  push(chunk: Buffer): Buffer {
    if (this.secrets.length === 0) return chunk;
    const data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const { out, rest } = this.mask(data, false);
    // A copy: the chunk's buffer may be reused by whoever read it.
    this.carry = Buffer.from(rest);
    return out;
  }

  end(): Buffer {
    const { out } = this.mask(this.carry, true);
    this.carry = Buffer.alloc(0);
    return out;
  }

  /**
   * Masks every whole secret in `data` that starts before `hold`, the first byte that could begin a
   * secret the next chunk completes; what lies from `hold` on is the rest, held back (none at the end).
   */
  private mask(data: Buffer, atEnd: boolean): { out: Buffer; rest: Buffer } {
    const parts: Buffer[] = [];
    const next = this.secrets.map(() => -2);
    let pos = 0;
    let hold = atEnd ? data.length : this.holdFrom(data, 0);
    for (;;) {
      // The earliest secret at or after pos; of two that start together, the longer.
      let start = -1;
      let which = -1;
      for (const [i, secret] of this.secrets.entries()) {
        if ((next[i] ?? -2) < pos && next[i] !== -1) next[i] = data.indexOf(secret, pos);
        const at = next[i] ?? -1;
        if (at !== -1 && (start === -1 || at < start)) {
          start = at;
          which = i;
        }
      }
      if (start === -1 || start >= hold) break;
      parts.push(data.subarray(pos, start), Buffer.from(MASK));
      pos = start + (this.secrets[which]?.length ?? 0);
      if (pos > hold && !atEnd) hold = this.holdFrom(data, pos);
    }
    hold = Math.max(hold, pos);
    parts.push(data.subarray(pos, hold));
    return { out: Buffer.concat(parts), rest: data.subarray(hold) };
  }

  /** The first position from `from` whose bytes to the end begin some secret without completing it. */
  private holdFrom(data: Buffer, from: number): number {
    for (let i = Math.max(from, data.length - this.longest + 1); i < data.length; i++) {
      const tail = data.subarray(i);
      if (this.secrets.some((s) => s.length > tail.length && s.subarray(0, tail.length).equals(tail))) return i;
    }
    return data.length;
  }
}
