// What a cycle does with a repo once it knows the remote's head: the rules of the spec, as one pure function.

import type { RepoConfig } from '../config/types.js';
import type { RemoteHead } from '../git/client.js';
import type { RepoState } from '../state/state-file.js';

export type Decision =
  | { readonly action: 'up-to-date' }
  | { readonly action: 'wait'; readonly reason: string }
  | { readonly action: 'run'; readonly reason: 'first' | 'new-commit' | 'moved' | 'retry-interrupted' | 'trigger' };

export function decide(repo: RepoConfig, head: RemoteHead, entry: RepoState | undefined, trigger = false): Decision {
  if (trigger) return { action: 'run', reason: 'trigger' };
  if (entry === undefined || (entry.commit === undefined && entry.lastRun === undefined)) return { action: 'run', reason: 'first' };
  const last = entry.lastRun;
  // Checked before a url or branch change: a head that failed after the change must not run every cycle.
  if (last?.commit === head.sha && last.status === 'failed') {
    return { action: 'wait', reason: `failed before; waits for a new commit or 'gitwatch trigger ${repo.name}'` };
  }
  const moved = entry.commit !== undefined && (entry.url !== repo.displayUrl || entry.branch !== head.branch);
  if (moved) return { action: 'run', reason: 'moved' };
  if (entry.commit === head.sha) return { action: 'up-to-date' };
  if (last?.commit === head.sha && last.status === 'interrupted') return { action: 'run', reason: 'retry-interrupted' };
  return { action: 'run', reason: entry.commit === undefined ? 'first' : 'new-commit' };
}
