// What `git verify-commit --raw` and `git verify-tag --raw` say, as data: verified, or which of the ways a
// signature fails it is. git prints gpg's machine-readable status lines (`[GNUPG:] GOODSIG …`, DETAILS in
// gpg's doc/) for an OpenPGP signature and ssh-keygen's own lines for an SSH one. Exit 0 is the verdict;
// the lines only say why not. Key ids and fingerprints are kept, never the user ids a signer chose.

/** An object whose signature is checked: a commit, or an annotated tag's own object. */
export interface SignedObject {
  readonly kind: 'commit' | 'tag';
  readonly sha: string;
}

/** Where an annotated tag's own object is fetched, for its signature (`mode: tag`); `plan` has its own. */
export const TAG_REF = 'refs/gitwatch/tag';
export const PLAN_TAG_REF = 'refs/gitwatch/plan-tag';

export type SignatureProblem =
  /** No signature at all. */
  | 'unsigned'
  /** Signed, but by a key that is not among the configured ones. */
  | 'unknown-key'
  /** Signed by a configured key, but what was signed is not what is there. */
  | 'bad-signature'
  /** A good signature by a key that has expired. */
  | 'expired-key'
  /** A good signature that has itself expired. */
  | 'expired-signature'
  | 'revoked-key'
  /** git or gpg could not check it (an unknown algorithm, a broken signature block). */
  | 'unchecked';

export type SignatureCheck =
  { readonly verified: true; readonly key: string } | { readonly verified: false; readonly problem: SignatureProblem; readonly key: string | undefined };

/** The first field after `[GNUPG:] NAME` on the line that has it. */
function status(raw: string, name: string): string[] | undefined {
  const line = raw.split('\n').find((l) => l.startsWith(`[GNUPG:] ${name} `) || l === `[GNUPG:] ${name}`);
  return line?.slice(`[GNUPG:] ${name}`.length).trim().split(' ');
}

/** An SSH key's fingerprint in ssh-keygen's words (`… ED25519 key SHA256:abc…`). */
function sshKey(raw: string): string | undefined {
  const found = /\bkey (SHA256:[A-Za-z0-9+/=]+)/.exec(raw)?.[1];
  return found === undefined ? undefined : `SSH key ${found}`;
}

export function readSignatureCheck(code: number | null, raw: string): SignatureCheck {
  const gpgKey = (name: string): string | undefined => {
    const id = status(raw, name)?.[0];
    return id === undefined || id === '' ? undefined : `gpg key ${id}`;
  };
  if (code === 0) return { verified: true, key: gpgKey('VALIDSIG') ?? gpgKey('GOODSIG') ?? sshKey(raw) ?? 'a configured key' };
  const refused = (problem: SignatureProblem, key?: string): SignatureCheck => ({ verified: false, problem, key });
  // OpenPGP, in the order gpg's DETAILS gives them precedence: one of these per signature.
  if (status(raw, 'EXPKEYSIG') !== undefined) return refused('expired-key', gpgKey('EXPKEYSIG'));
  if (status(raw, 'REVKEYSIG') !== undefined) return refused('revoked-key', gpgKey('REVKEYSIG'));
  if (status(raw, 'EXPSIG') !== undefined) return refused('expired-signature', gpgKey('EXPSIG'));
  if (status(raw, 'BADSIG') !== undefined) return refused('bad-signature', gpgKey('BADSIG'));
  if (status(raw, 'NO_PUBKEY') !== undefined) return refused('unknown-key', gpgKey('NO_PUBKEY'));
  if (status(raw, 'ERRSIG') !== undefined) return refused('unchecked', gpgKey('ERRSIG'));
  if (status(raw, 'GOODSIG') !== undefined) return refused('unchecked', gpgKey('GOODSIG'));
  // SSH, as ssh-keygen -Y says it.
  if (/key has expired|not yet valid/i.test(raw)) return refused('expired-key', sshKey(raw));
  if (/revoked/i.test(raw)) return refused('revoked-key', sshKey(raw));
  if (/incorrect signature|Could not verify signature/i.test(raw)) return refused('bad-signature', sshKey(raw));
  if (/No principal matched|Good "git" signature with/.test(raw)) return refused('unknown-key', sshKey(raw));
  if (raw.trim() === '' || /no signature found/i.test(raw)) return refused('unsigned');
  return refused('unchecked', sshKey(raw));
}
