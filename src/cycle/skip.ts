// Whether a new head runs or is recorded as skipped: a skip marker in its message, or no changed file that
// matches `paths`. Shared by the cycle and `gitwatch plan`, which ask git through the same two questions.

import type { RepoConfig } from '../config/types.js';
import type { Changes } from '../git/client.js';
import { pathFilter } from '../rules/paths.js';
import type { RepoState } from '../state/state-file.js';
import type { Decision } from './decide.js';

/** What the skip rules need to know about the new head; asked only when a rule applies. */
export interface HeadFacts {
  message(): Promise<string>;
  changes(from: string): Promise<Changes>;
}

export async function skipReason(repo: RepoConfig, entry: RepoState | undefined, decision: Decision, facts: HeadFacts): Promise<string | undefined> {
  // A trigger or a rollback runs on purpose; a retry or an interrupted run already passed these rules.
  if (decision.action !== 'run' || ['trigger', 'rollback', 'retry', 'retry-interrupted'].includes(decision.reason)) return undefined;
  if (repo.skipMarkers.length > 0) {
    const message = await facts.message();
    const marker = repo.skipMarkers.find((m) => message.includes(m));
    if (marker !== undefined) return `the head commit's message has the skip marker '${marker}'`;
  }
  // A first run, a force push and a moved url or branch always run: there is nothing to compare against.
  if (repo.paths === undefined || decision.reason !== 'new-commit' || entry?.commit === undefined) return undefined;
  const changes = await facts.changes(entry.commit);
  if (!changes.descendant) return undefined;
  if (pathFilter(repo.paths).firstMatch(changes.files) !== undefined) return undefined;
  const n = changes.files.length;
  return `no changed file matches paths (${n} file${n === 1 ? '' : 's'} changed)`;
}
