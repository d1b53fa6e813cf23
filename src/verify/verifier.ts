// `verify:`: may this head run, as far as its signatures go? The objects the mode names (the head commit, the
// annotated tag a `tag:` repo follows, or both) are checked by git against the configured keys alone
// (keyring.ts), and a refusal says which object and what was wrong with it, in words.
//
// How often an unverified head is checked again: a refusal is remembered per repo for that head (and tag
// object) under those keys and that mode, so the polls that find the same head do not fetch or verify it
// again, and report nothing new. A new head, a reload that changes the keys or the mode, a restart, and
// `gitwatch trigger` verify afresh. The lock records the refusal (cycle/turn.ts), so a restart that refuses
// the same commit again does not make it news again.

import type { RepoConfig } from '../config/types.js';
import { shortSha } from '../domain.js';
import type { GitCallOptions, GitClient, RemoteHead } from '../git/client.js';
import type { SignedObject } from '../git/signature.js';
import type { SignatureCheck, SignatureProblem } from '../git/signature.js';
import { Keyrings } from './keyring.js';

/** What a refused check says of the object, by problem: the words first, so a reader can grep them. */
const PROBLEM_WORDS: Readonly<Record<SignatureProblem, string>> = {
  unsigned: 'unsigned',
  'unknown-key': 'unknown key',
  'bad-signature': 'bad signature',
  'expired-key': 'expired key',
  'expired-signature': 'expired signature',
  'revoked-key': 'revoked key',
  unchecked: 'signature cannot be checked',
};

function detail(check: Extract<SignatureCheck, { verified: false }>): string {
  if (check.key === undefined) return '';
  switch (check.problem) {
    case 'unknown-key':
      return ` (signed by ${check.key}, which is not among the configured keys)`;
    case 'bad-signature':
      return ` (${check.key}: what is there is not what was signed)`;
    default:
      return ` (${check.key})`;
  }
}

/** The head to check; `pinned`: a commit the repo is pinned to (a rollback, `commit:`), which no tag vouches for. */
export type SignedHead = RemoteHead & { readonly pinned?: boolean };

export interface VerifyTarget {
  readonly git: GitClient;
  readonly workdir: string;
  /** The repo's store, which holds the head (fetched). */
  readonly store: string;
  readonly call: GitCallOptions;
  /** Fetches the annotated tag's own object into the store (a ref of the caller's choosing). */
  readonly fetchTag: (sha: string) => Promise<void>;
}

export class Verifier {
  /** The last refusal per repo (or target): for which head, under which keys, and why. */
  private readonly refused = new Map<string, { readonly key: string; readonly reason: string }>();

  constructor(readonly keyrings: Keyrings) {}

  /** A refusal of this very head under these keys, already found: why; else undefined (it must be checked). */
  known(repo: RepoConfig, head: SignedHead): string | undefined {
    const seen = this.refused.get(repo.name);
    return seen !== undefined && seen.key === memoKey(repo, head) ? seen.reason : undefined;
  }

  /** Forgets `repo`'s refusal: its next check verifies again. */
  forget(repo: string): void {
    this.refused.delete(repo);
  }

  /** Checks `head` (fetched into `target.store`) as `repo.verify` says: undefined when it may run, else why not. */
  async check(repo: RepoConfig, head: SignedHead, target: VerifyTarget): Promise<string | undefined> {
    const verify = repo.verify;
    if (verify === undefined) return undefined;
    const reason = await this.refusal(repo, head, target);
    if (reason === undefined) this.refused.delete(repo.name);
    else this.refused.set(repo.name, { key: memoKey(repo, head), reason });
    return reason;
  }

  private async refusal(repo: RepoConfig, head: SignedHead, target: VerifyTarget): Promise<string | undefined> {
    const verify = repo.verify;
    if (verify === undefined) return undefined;
    // A pinned commit is checked for its own signature, whatever the mode: no tag vouches for it.
    const pinned = head.pinned === true;
    const objects: { object: SignedObject; name: string }[] = [];
    if (!pinned && verify.mode !== 'head') {
      const tag = head.tag ?? '?';
      if (head.tagObject === undefined) return `tag ${tag}: lightweight tag, which carries no signature (mode: ${verify.mode} needs an annotated, signed tag)`;
      await target.fetchTag(head.tagObject);
      objects.push({ object: { kind: 'tag', sha: head.tagObject }, name: `tag ${tag} (${shortSha(head.tagObject)})` });
    }
    if (pinned || verify.mode !== 'tag')
      objects.push({ object: { kind: 'commit', sha: head.sha }, name: `${pinned ? 'pinned commit' : 'commit'} ${shortSha(head.sha)}` });
    const keyring = await this.keyrings.keyring(target.workdir, verify);
    for (const { object, name } of objects) {
      const check = await target.git.verifySignature(target.store, object, keyring, target.call);
      if (!check.verified) return `${name}: ${PROBLEM_WORDS[check.problem]}${detail(check)}`;
    }
    return undefined;
  }
}

/** The head, the tag object and the keys and mode a verdict holds for. */
function memoKey(repo: RepoConfig, head: SignedHead): string {
  return JSON.stringify([repo.verify?.mode, repo.verify?.keys?.id, head.sha, head.tag ?? null, head.tagObject ?? null, head.pinned === true]);
}
