// The status of every repo, from the config and the state file, and (with a daemon) what each does now.
// The daemon and the `status` command build it the same way, so the two views never disagree.

import { isBranchGlob, parseTargetName, targetFolder, targetOf } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import type { DaemonInfo, RepoStatus, StatusReport } from '../control/protocol.js';
import { repoOfTarget, type StatusPhase } from '../domain.js';
import type { RepoState, State } from '../state/state-file.js';
import { pinOf } from '../cycle/schedule.js';
import { formatShard, inShard } from '../rules/shard.js';

export interface LiveRepo {
  readonly phase: StatusPhase;
  readonly run: { readonly commit: string; readonly startedAt: Date } | undefined;
  readonly step: { readonly step: string; readonly startedAt: Date } | undefined;
  readonly nextCheckAt: Date | undefined;
  readonly lastCheckError: string | undefined;
  /** A queued repo: what it waits for. */
  readonly waitingFor?: string | undefined;
  /** The ref's head at the last check. */
  readonly head?: string | undefined;
}

/** The pin `admit` would apply, as status shows it. */
function pinnedOf(repo: RepoConfig, entry: RepoState | undefined): RepoStatus['pinned'] {
  const pin = pinOf(repo, entry);
  if (pin === undefined) return null;
  return { commit: pin.commit, reason: pin.by, at: pin.by === 'rollback' ? (entry?.pinned?.at ?? null) : null };
}

export function buildStatus(
  config: ResolvedConfig,
  state: State,
  daemon: DaemonInfo | null,
  live?: (repo: string) => LiveRepo | undefined,
  /** The daemon's branch glob targets now, which may not be in the state yet. */
  liveTargets: readonly string[] = [],
): StatusReport {
  const row = (repo: RepoConfig): RepoStatus => {
    const entry = state.repos[repo.name];
    const now = live?.(repo.name);
    return {
      name: repo.name,
      configured: true,
      url: repo.displayUrl,
      branch: repo.tag === undefined ? (repo.branch ?? entry?.branch ?? null) : null,
      tag: repo.tag === undefined ? null : (entry?.tag ?? repo.tag),
      commit: entry?.commit ?? null,
      lastRun: entry?.lastRun ?? null,
      unverified: entry?.unverified ?? null,
      paused: entry?.paused === true,
      gone: entry?.gone !== undefined,
      enabled: repo.enabled,
      phase: now?.phase ?? null,
      runCommit: now?.run?.commit ?? null,
      runStartedAt: now?.run?.startedAt.toISOString() ?? null,
      step: now?.phase === 'running' || now?.phase === 'stopping' ? (now.step?.step ?? null) : null,
      stepStartedAt: now?.phase === 'running' || now?.phase === 'stopping' ? (now.step?.startedAt.toISOString() ?? null) : null,
      nextCheckAt: now?.nextCheckAt?.toISOString() ?? null,
      lastCheckError: now?.lastCheckError ?? null,
      waitingFor: now?.phase === 'queued' ? (now.waitingFor ?? null) : null,
      pinned: pinnedOf(repo, entry),
      head: now?.head ?? null,
    };
  };
  const rows: RepoStatus[] = [];
  const shown = new Set<string>();
  for (const repo of config.repos) {
    rows.push(row(repo));
    shown.add(repo.name);
    if (!isBranchGlob(repo)) continue;
    // Its targets, in branch order: those in the lock (gone ones too) and those the daemon follows now.
    const names = new Set([...Object.keys(state.repos), ...liveTargets].filter((name) => repoOfTarget(name) === repo.name && name !== repo.name));
    for (const name of [...names].sort()) {
      const target = parseTargetName(config, name);
      rows.push(
        row(
          target === undefined
            ? { ...repo, name, branch: name.slice(repo.name.length + 1) }
            : targetOf(target.repo, target.branch, targetFolder(repo.name, target.branch, state.repos)),
        ),
      );
      shown.add(name);
    }
  }
  const { shard } = config;
  for (const [name, entry] of Object.entries(state.repos).sort(([a], [b]) => a.localeCompare(b))) {
    // A state shared by mistake, or kept from before sharding, still shows only this shard's repos.
    if (shown.has(name) || (shard !== undefined && !inShard(name, shard))) continue;
    rows.push({
      name,
      configured: false,
      url: entry.url ?? null,
      branch: entry.branch ?? null,
      tag: entry.tag ?? null,
      gone: entry.gone !== undefined,
      commit: entry.commit ?? null,
      lastRun: entry.lastRun ?? null,
      unverified: entry.unverified ?? null,
      paused: entry.paused === true,
      enabled: true,
      phase: null,
      runCommit: null,
      runStartedAt: null,
      step: null,
      stepStartedAt: null,
      nextCheckAt: null,
      lastCheckError: null,
      waitingFor: null,
      pinned: entry.pinned === undefined ? null : { commit: entry.pinned.commit, reason: 'rollback', at: entry.pinned.at },
      head: null,
    });
  }
  return { daemon, shard: shard === undefined ? null : formatShard(shard), repos: rows };
}
