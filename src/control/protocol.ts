// The control socket's protocol: one JSON request per connection, answered by JSON lines. Most requests
// get one line; `trigger` with `wait` gets a line when the daemon accepts and one when the run ends.

import type { StatusPhase } from '../domain.js';
import type { RunRecord } from '../state/state-file.js';

export type ControlRequest =
  | { readonly op: 'status' }
  | { readonly op: 'trigger'; readonly repos: readonly string[]; readonly wait: boolean }
  | { readonly op: 'pause'; readonly repos: readonly string[] }
  | { readonly op: 'resume'; readonly repos: readonly string[] }
  | { readonly op: 'cancel'; readonly repo: string };

/** One repo as `status --json` prints it; `phase`, `step` and `nextCheckAt` are null without a daemon. */
export interface RepoStatus {
  readonly name: string;
  readonly configured: boolean;
  readonly url: string | null;
  readonly branch: string | null;
  /** `tag:` repos: the tag processed last, else the configured pattern. */
  readonly tag: string | null;
  readonly commit: string | null;
  readonly lastRun: RunRecord | null;
  readonly paused: boolean;
  /** A branch glob's target whose branch left the remote. */
  readonly gone: boolean;
  /** `enabled: false` in the config: kept, not checked. True for removed repos' entries. */
  readonly enabled: boolean;
  readonly phase: StatusPhase | null;
  /** The commit of the run in progress (phase `running` or `stopping`); a first run's is in no lock entry yet. */
  readonly runCommit: string | null;
  /** When the run in progress started (ISO). */
  readonly runStartedAt: string | null;
  readonly step: string | null;
  /** When the running step started (ISO), so a reader can say how long it runs. */
  readonly stepStartedAt: string | null;
  readonly nextCheckAt: string | null;
  readonly lastCheckError: string | null;
  /** A queued repo: what it waits for (`behind api`, `group deploy: api`). */
  readonly waitingFor: string | null;
}

export interface DaemonInfo {
  readonly pid: number;
  readonly startedAt: string;
  readonly config: string;
}

export interface StatusReport {
  readonly daemon: DaemonInfo | null;
  readonly repos: readonly RepoStatus[];
}

export type ControlReply =
  | { readonly ok: true; readonly status: StatusReport }
  | { readonly ok: true; readonly accepted: readonly string[] }
  | { readonly ok: true; readonly canceled: boolean }
  | { readonly ok: true; readonly finished: readonly { readonly repo: string; readonly status: string; readonly error?: string | undefined }[] }
  | { readonly ok: false; readonly error: string; readonly usage: boolean };

/** Requests are small; anything longer is not a gitwatch client. */
export const MAX_REQUEST_BYTES = 64 * 1024;
