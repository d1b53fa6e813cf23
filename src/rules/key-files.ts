// What a `verify:` key file must hold to be worth a keyring: an OpenPGP public key (armored or binary, as
// `gpg --export` writes it), or an SSH allowed-signers line. Pure checks of the bytes, so `validate` tells a
// wrong file (a private key, a bare public key without principals, an empty file) without running gpg.

/** OpenPGP packet tags (RFC 4880, 4.3) that start a key. */
const PUBLIC_KEY = 6;
const SECRET_KEY = 5;

const ARMOR = /-----BEGIN PGP ([A-Z ]+)-----\r?\n([\s\S]*?)-----END PGP \1-----/g;

/** Why `bytes` is no OpenPGP public key file, or undefined when it holds at least one public key. */
export function gpgKeysProblem(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes).toString('latin1');
  const blocks = [...text.matchAll(ARMOR)];
  const packets = text.includes('-----BEGIN PGP ') ? blocks.map((m) => dearmor(m[2] ?? '')) : [bytes];
  const tags = packets.flatMap((data) => packetTags(data));
  if (tags.includes(PUBLIC_KEY)) return undefined;
  if (tags.includes(SECRET_KEY)) return 'it holds a secret key, not a public one: export the public key (gpg --armor --export KEYID)';
  if (bytes.length === 0) return 'it is empty: export a public key into it (gpg --armor --export KEYID)';
  if (text.includes('-----BEGIN PGP ') && blocks.length === 0) return 'its armored block is cut short (no matching END line)';
  if (/^(ssh|ecdsa|sk)-[a-z0-9-]+(@openssh\.com)? /m.test(text)) return 'it holds an SSH key: use ssh_allowed_signers for SSH signatures';
  return 'it holds no OpenPGP public key (export one with gpg --armor --export KEYID)';
}

/** An armored block's body: optional `Key: value` headers, a blank line, base64, and a `=` checksum line. */
function dearmor(body: string): Uint8Array {
  const lines = body.split(/\r?\n/);
  const blank = lines.indexOf('');
  const start = blank !== -1 && lines.slice(0, blank).every((l) => l.includes(':')) ? blank + 1 : 0;
  const data = lines.slice(start).filter((l) => !l.startsWith('=') && l.trim() !== '');
  return Buffer.from(data.join(''), 'base64');
}

/** The tags of the packets in `data`, in order, as far as their headers can be read. */
function packetTags(data: Uint8Array): number[] {
  const tags: number[] = [];
  let at = 0;
  while (at < data.length) {
    const head = data[at] ?? 0;
    if ((head & 0x80) === 0) break;
    let tag: number;
    let length: number;
    let size: number;
    if ((head & 0x40) !== 0) {
      tag = head & 0x3f;
      const first = data[at + 1] ?? 0;
      if (first < 192) [length, size] = [first, 2];
      else if (first < 224) [length, size] = [((first - 192) << 8) + (data[at + 2] ?? 0) + 192, 3];
      else if (first === 255) [length, size] = [readUint32(data, at + 2), 6];
      // A partial body length never starts a key packet: nothing further is a key.
      else break;
    } else {
      tag = (head >> 2) & 0x0f;
      const type = head & 0x03;
      if (type === 0) [length, size] = [data[at + 1] ?? 0, 2];
      else if (type === 1) [length, size] = [((data[at + 1] ?? 0) << 8) + (data[at + 2] ?? 0), 3];
      else if (type === 2) [length, size] = [readUint32(data, at + 1), 5];
      else [length, size] = [data.length - at - 1, 1];
    }
    if (at + size > data.length) break;
    tags.push(tag);
    at += size + length;
  }
  return tags;
}

function readUint32(data: Uint8Array, at: number): number {
  return (((data[at] ?? 0) << 24) >>> 0) + ((data[at + 1] ?? 0) << 16) + ((data[at + 2] ?? 0) << 8) + (data[at + 3] ?? 0);
}

/** The key types OpenSSH signs with. */
const SSH_KEY_TYPE = /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Why `text` is no allowed-signers file, or undefined when one line at least names principals and a key
 * (`deploy@example.com ssh-ed25519 AAAA…`, options such as `valid-before="…"` allowed between them).
 */
export function allowedSignersProblem(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  let bare: number | undefined;
  for (const [i, line] of lines.entries()) {
    if (line === '' || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    const key = words.findIndex((w, j) => j > 0 && SSH_KEY_TYPE.test(w) && BASE64.test(words[j + 1] ?? ''));
    if (key > 0 && !SSH_KEY_TYPE.test(words[0] ?? '')) return undefined;
    if (SSH_KEY_TYPE.test(words[0] ?? '')) bare ??= i + 1;
  }
  if (bare !== undefined)
    return `line ${bare} is a public key without principals: an allowed-signers line starts with who signs (deploy@example.com ssh-ed25519 AAAA…)`;
  if (text.includes('-----BEGIN')) return 'it holds a PEM or OpenPGP block, not allowed-signers lines (deploy@example.com ssh-ed25519 AAAA…)';
  return 'it holds no allowed-signers line (deploy@example.com ssh-ed25519 AAAA…)';
}
