// What a cycle does with a repo once it knows the remote's head: the rules of the spec, as one pure function.

import type { RepoConfig } from '../config/types.js';
import type { RemoteHead } from '../git/client.js';
import { compareTags } from '../git/ref-select.js';
import type { RepoState } from '../state/state-file.js';

export type Decision =
  | { readonly action: 'up-to-date' }
  | { readonly action: 'wait'; readonly reason: string }
  /** The lock's tag vanished and only older tags match: the lock stays where it is. */
  | { readonly action: 'hold'; readonly reason: string }
  | { readonly action: 'run'; readonly reason: 'first' | 'new-commit' | 'moved' | 'retry-interrupted' | 'trigger' };

export function decide(repo: RepoConfig, head: RemoteHead, entry: RepoState | undefined, trigger = false): Decision {
  if (trigger) return { action: 'run', reason: 'trigger' };
  if (entry === undefined || (entry.commit === undefined && entry.lastRun === undefined)) return { action: 'run', reason: 'first' };
  const last = entry.lastRun;
  // Checked before a url or branch change: a head that failed after the change must not run every cycle.
  if (last?.commit === head.sha && last.status === 'failed') {
    return { action: 'wait', reason: `failed before; waits for a new commit or 'gitwatch trigger ${repo.name}'` };
  }
  // Following a tag, the lock has no branch; a switch between a branch and a tag counts as a move.
  const moved = entry.commit !== undefined && (entry.url !== repo.displayUrl || entry.branch !== (head.tag === undefined ? head.branch : undefined));
  if (moved) return { action: 'run', reason: 'moved' };
  if (entry.commit === head.sha) return { action: 'up-to-date' };
  const gone = entry.tag !== undefined && head.tag !== undefined && head.matching !== undefined && !head.matching.includes(entry.tag);
  if (gone && compareTags(head.tag ?? '', entry.tag ?? '') < 0) {
    return { action: 'hold', reason: `tag '${entry.tag ?? ''}' is gone from the remote; the lock keeps its commit until a tag above it appears` };
  }
  if (last?.commit === head.sha && last.status === 'interrupted') return { action: 'run', reason: 'retry-interrupted' };
  return { action: 'run', reason: entry.commit === undefined ? 'first' : 'new-commit' };
}
