// The control socket's protocol: one JSON request per connection, answered by JSON lines. Most requests
// get one line; `trigger` with `wait` gets a line when the daemon accepts and one when the run ends.

import type { StatusPhase } from '../domain.js';
import type { RunRecord } from '../state/state-file.js';

export type ControlRequest =
  | { readonly op: 'status' }
  | { readonly op: 'trigger'; readonly repos: readonly string[]; readonly wait: boolean }
  | { readonly op: 'pause'; readonly repos: readonly string[] }
  | { readonly op: 'resume'; readonly repos: readonly string[] }
  | { readonly op: 'cancel'; readonly repo: string }
  /** Answered when the pin is recorded (`pinned`), then when its run ends (`finished`). */
  | { readonly op: 'rollback'; readonly repo: string; readonly to?: string | undefined }
  | { readonly op: 'unpin'; readonly repos: readonly string[] };

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
  /** The head `verify:` refused (nothing ran for it), and why; null when none is. */
  readonly unverified: { readonly commit: string; readonly reason: string } | null;
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
  /** The commit the repo runs instead of its ref's head: an operator's rollback (`at` set), or the config's `commit:`. */
  readonly pinned: { readonly commit: string; readonly reason: 'rollback' | 'config'; readonly at: string | null } | null;
  /** The ref's head as the daemon's last check saw it; null without a daemon. */
  readonly head: string | null;
}

export interface DaemonInfo {
  readonly pid: number;
  readonly startedAt: string;
  readonly config: string;
}

export interface StatusReport {
  readonly daemon: DaemonInfo | null;
  /** `I/N` when the report covers one shard's repos; null for all. */
  readonly shard: string | null;
  readonly repos: readonly RepoStatus[];
}

export type ControlReply =
  | { readonly ok: true; readonly status: StatusReport }
  | { readonly ok: true; readonly accepted: readonly string[] }
  | { readonly ok: true; readonly canceled: boolean }
  | { readonly ok: true; readonly pinned: string }
  | { readonly ok: true; readonly finished: readonly { readonly repo: string; readonly status: string; readonly error?: string | undefined }[] }
  | { readonly ok: false; readonly error: string; readonly usage: boolean };

/** Requests are small; anything longer is not a gitwatch client. */
export const MAX_REQUEST_BYTES = 64 * 1024;

const OPS = ['status', 'trigger', 'pause', 'resume', 'cancel', 'rollback', 'unpin'] as const;

/** A request line as a client sent it: the request, or why it is none (what the daemon answers). */
export function parseRequest(line: string): { readonly request: ControlRequest } | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'not a gitwatch control request: not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('op' in value)) {
    return { error: 'not a gitwatch control request: a JSON object with an "op" is' };
  }
  const fields = value as Record<string, unknown>;
  const op = fields['op'];
  switch (op) {
    case 'status':
      return { request: { op } };
    case 'trigger': {
      const wait = fields['wait'] ?? false;
      if (typeof wait !== 'boolean') return { error: 'trigger: "wait" must be true or false' };
      return withRepos(op, fields, (repos) => ({ op, repos, wait }));
    }
    case 'pause':
    case 'resume':
    case 'unpin':
      return withRepos(op, fields, (repos) => ({ op, repos }));
    case 'rollback': {
      const repo = fields['repo'];
      const to = fields['to'];
      if (typeof repo !== 'string') return { error: 'rollback: "repo" must be a repo name' };
      if (to !== undefined && typeof to !== 'string') return { error: 'rollback: "to" must be a commit id' };
      return { request: { op, repo, to } };
    }
    case 'cancel': {
      const repo = fields['repo'];
      return typeof repo === 'string' ? { request: { op, repo } } : { error: 'cancel: "repo" must be a repo name' };
    }
    default:
      if (typeof op !== 'string') return { error: `not a gitwatch control request: "op" must be one of ${OPS.join(', ')}` };
      // Said back in the answer: printable and short, whatever the client sent.
      return { error: `unknown request '${op.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}' (known: ${OPS.join(', ')})` };
  }
}

function withRepos(
  op: string,
  fields: Record<string, unknown>,
  make: (repos: readonly string[]) => ControlRequest,
): { request: ControlRequest } | { error: string } {
  const repos = fields['repos'];
  if (!Array.isArray(repos) || !repos.every((r): r is string => typeof r === 'string')) return { error: `${op}: "repos" must be a list of repo names` };
  return { request: make(repos) };
}
