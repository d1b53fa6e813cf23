// The status of every repo, from the config and the state file, and (with a daemon) what each does now.
// The daemon and the `status` command build it the same way, so the two views never disagree.

import type { ResolvedConfig } from '../config/types.js';
import type { DaemonInfo, RepoStatus, StatusReport } from '../control/protocol.js';
import type { Phase } from '../domain.js';
import type { State } from '../state/state-file.js';

export interface LiveRepo {
  readonly phase: Phase;
  readonly step: { readonly step: string; readonly startedAt: Date } | undefined;
  readonly nextCheckAt: Date | undefined;
  readonly lastCheckError: string | undefined;
}

export function buildStatus(config: ResolvedConfig, state: State, daemon: DaemonInfo | null, live?: (repo: string) => LiveRepo | undefined): StatusReport {
  const rows: RepoStatus[] = config.repos.map((repo) => {
    const entry = state.repos[repo.name];
    const now = live?.(repo.name);
    return {
      name: repo.name,
      configured: true,
      url: repo.displayUrl,
      branch: repo.branch ?? entry?.branch ?? null,
      commit: entry?.commit ?? null,
      lastRun: entry?.lastRun ?? null,
      paused: entry?.paused === true,
      enabled: repo.enabled,
      phase: now?.phase ?? null,
      step: now?.phase === 'running' ? (now.step?.step ?? null) : null,
      stepStartedAt: now?.phase === 'running' ? (now.step?.startedAt.toISOString() ?? null) : null,
      nextCheckAt: now?.nextCheckAt?.toISOString() ?? null,
      lastCheckError: now?.lastCheckError ?? null,
    };
  });
  const configured = new Set(config.repos.map((r) => r.name));
  for (const [name, entry] of Object.entries(state.repos).sort(([a], [b]) => a.localeCompare(b))) {
    if (configured.has(name)) continue;
    rows.push({
      name,
      configured: false,
      url: entry.url ?? null,
      branch: entry.branch ?? null,
      commit: entry.commit ?? null,
      lastRun: entry.lastRun ?? null,
      paused: entry.paused === true,
      enabled: true,
      phase: null,
      step: null,
      stepStartedAt: null,
      nextCheckAt: null,
      lastCheckError: null,
    });
  }
  return { daemon, repos: rows };
}
