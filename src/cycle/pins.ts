// What a repo's turn does with a pin: the words for it, a stale one dropped, a server that will not send it.

import type { RepoConfig } from '../config/types.js';
import { shortSha } from '../domain.js';
import { GitError } from '../errors.js';
import type { RepoState } from '../state/state-file.js';
import { pinHolds } from './schedule.js';
import type { CycleDeps } from './turn.js';

/** What `status`, `plan` and the log say of a repo pinned away from its head. */
export function pinnedWords(repo: Pick<RepoConfig, 'name'>, pinned: string, head: string | undefined): string {
  const at = `pinned at ${shortSha(pinned)}`;
  return head === undefined || head === pinned ? at : `${at}; head is ${shortSha(head)}; 'gitwatch unpin ${repo.name}' follows it again`;
}

/** A server that will not send a pinned commit by its id: it lacks it, or only sends what its refs advertise. */
export function refusedById(repo: RepoConfig, sha: string): GitError {
  return new GitError(
    'unadvertised',
    `fetching ${repo.displayUrl}: the remote does not send commit ${shortSha(sha)} by its id: it does not have it, or it sends only what its refs name ` +
      `(allow fetching by id on the server with uploadpack.allowReachableSHA1InWant or uploadpack.allowAnySHA1InWant)`,
  );
}

/**
 * An operator's pin made on another url or ref than the config follows now: dropped, and said, so the repo
 * follows its (new) ref from this check on. Returns the entry as it stands after.
 */
export async function dropStalePin(repo: RepoConfig, deps: CycleDeps): Promise<RepoState | undefined> {
  const entry = deps.state.entry(repo.name);
  const pinned = entry?.pinned;
  if (pinned === undefined || pinHolds(repo, pinned)) return entry;
  await deps.state.update(repo.name, (now) => withoutPin(now));
  const why = repo.commit !== undefined ? "the config pins it with 'commit:'" : "the repo's url or ref changed in the config";
  deps.reporter.emit({ type: 'waiting', repo: repo.name, commit: pinned.commit, reason: `unpinned from ${shortSha(pinned.commit)}: ${why}` });
  return deps.state.entry(repo.name);
}

/** The entry without `pinned`; the rest as it was. */
export function withoutPin(entry: RepoState | undefined): RepoState {
  const { pinned: _was, ...rest } = entry ?? {};
  return rest;
}
