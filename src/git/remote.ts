// The shapes of a remote and of what asking it gives: what the git client and its callers exchange.

import type { Credentials, SshSettings } from '../domain.js';

export interface Remote {
  /** What git is given: no credentials in it. */
  readonly url: string;
  readonly credentials?: Credentials | undefined;
  readonly ssh?: SshSettings | undefined;
}

export interface RemoteHead {
  readonly sha: string;
  /** The branch followed: as configured, or the remote's default branch; empty when a tag is followed. */
  readonly branch: string;
  /** The tag followed (`tag:` repos). */
  readonly tag?: string | undefined;
  /** With `tag`: every tag the pattern matches now, to tell a tag that vanished from an older one. */
  readonly matching?: readonly string[] | undefined;
  /** With `tag`: the annotated tag's own object, which a signed tag's signature is in; undefined for a lightweight tag. */
  readonly tagObject?: string | undefined;
}

export interface GitCallOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Between the lock's commit and a new head: see `GitClient.changes`. */
export interface Changes {
  readonly descendant: boolean;
  readonly files: readonly string[];
}
