// What gitwatch reports while it works. Reporters (plain lines, JSON, listr2) turn these into output.

import type { RunReason, RunStatus, StepStatus } from '../domain.js';

export type GitwatchEvent =
  | { readonly type: 'check-failed'; readonly repo: string; readonly error: string; readonly kind: string }
  /**
   * A turn failed on this machine (`local`: disk full, permissions) or on a bug in gitwatch (`internal`,
   * with its stack): the repo backs off and is tried again; nothing else is touched.
   */
  | { readonly type: 'turn-failed'; readonly repo: string; readonly error: string; readonly kind: 'local' | 'internal'; readonly stack?: string | undefined }
  | { readonly type: 'up-to-date'; readonly repo: string; readonly commit: string }
  | { readonly type: 'waiting'; readonly repo: string; readonly commit: string; readonly reason: string }
  | { readonly type: 'paused'; readonly repo: string }
  /** A run that must wait for its turn: `waitingFor` says what it waits for (`behind api`, `group deploy: api`). */
  | { readonly type: 'run-queued'; readonly repo: string; readonly commit: string; readonly waitingFor: string }
  /** A branch glob's target whose branch left the remote: it stops; its lock entry stays, shown as gone. */
  | { readonly type: 'target-gone'; readonly repo: string; readonly branch: string }
  /** `enabled: false`: kept in the config, not checked. */
  | { readonly type: 'disabled'; readonly repo: string }
  /**
   * `verify:` refused a head (or its tag): it is not checked out and nothing runs; `reason` names the
   * object and what was wrong (`commit 3f2a9c1d04be: unsigned`). Said each time it is verified, not on
   * every check of the same head.
   */
  | { readonly type: 'unverified'; readonly repo: string; readonly commit: string; readonly reason: string }
  /** A new head recorded as skipped without running: nothing matched `paths`, or its message has a skip marker. */
  | { readonly type: 'run-skipped'; readonly repo: string; readonly commit: string; readonly previousCommit: string | undefined; readonly reason: string }
  | {
      readonly type: 'run-started';
      readonly repo: string;
      readonly branch: string;
      readonly tag?: string | undefined;
      readonly commit: string;
      /** The first line of the commit's message, when it could be read. */
      readonly subject?: string | undefined;
      readonly previousCommit: string | undefined;
      /** Why it runs: a re-run of an interrupted or canceled commit is no `first run`, whatever the lock's commit. */
      readonly reason: RunReason;
      /** Which try of this commit (`retry`); 1 for the first. */
      readonly attempt?: number | undefined;
      /** Every step's label (`job/step` in a job), in config order; events name steps by their index here. */
      readonly steps: readonly string[];
      /** A repo with `jobs`: each job and its steps' indexes. Undefined for a `pipeline`. */
      readonly jobs?: readonly { readonly name: string; readonly needs: readonly string[]; readonly steps: readonly number[] }[] | undefined;
      /** What the last run had left in the checkout, removed before the fetch (folders once). */
      readonly cleaned?: readonly string[] | undefined;
    }
  | { readonly type: 'step-started'; readonly repo: string; readonly step: string; readonly index: number }
  | { readonly type: 'step-output'; readonly repo: string; readonly step: string; readonly index: number; readonly line: string }
  | {
      readonly type: 'step-finished';
      readonly repo: string;
      readonly step: string;
      readonly index: number;
      readonly status: StepStatus;
      readonly durationMs: number;
      readonly error?: string | undefined;
      readonly tail: readonly string[];
      /** The step failed but has continue_on_error. */
      readonly ignored: boolean;
    }
  | { readonly type: 'step-skipped'; readonly repo: string; readonly step: string; readonly index: number }
  | {
      readonly type: 'run-finished';
      readonly repo: string;
      readonly commit: string;
      readonly status: RunStatus;
      readonly durationMs: number;
      readonly error?: string | undefined;
      readonly log?: string | undefined;
    }
  /** A run ended but its result could not be written to the state (disk full, permissions): it will run again. */
  | { readonly type: 'state-failed'; readonly repo: string; readonly commit: string; readonly status: RunStatus; readonly error: string };

export type DaemonEvent =
  | { readonly type: 'daemon-started'; readonly repos: readonly string[]; readonly pid: number }
  | { readonly type: 'config-reloaded'; readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] }
  /** `detail` is what `validate` would print (or why the file could not be applied); reporters put it on stderr. */
  | { readonly type: 'config-rejected'; readonly problems: number; readonly detail: string }
  /**
   * SIGINT/SIGTERM: no new work starts, and the running steps (`site/deploy`) get SIGTERM; each is waited
   * for at most `graceMs` before SIGKILL. `once` says it too.
   */
  | { readonly type: 'daemon-stopping'; readonly signal: string; readonly waitingFor: readonly string[]; readonly graceMs: number }
  /** The signal again while stopping: every process group was killed at once; `killed` names the steps. */
  | { readonly type: 'daemon-stopping-now'; readonly signal: string; readonly killed: readonly string[] }
  /** `run --listen` serves HTTP at `url` (the port the system chose, when it was 0). */
  | { readonly type: 'listening'; readonly url: string }
  /** A notification target failed; `target` names it without its URL, which may hold a token. */
  | { readonly type: 'notify-failed'; readonly repo: string; readonly target: string; readonly error: string; readonly retrying: boolean }
  /** A repo's git store was compacted (sizes in bytes), or the attempt failed (`error`). */
  | { readonly type: 'store-compacted'; readonly repo: string; readonly beforeBytes: number; readonly afterBytes: number; readonly error?: string | undefined }
  /** Checks of `origin` that could run in-process go through git instead (`once` too); said once per reason. */
  | { readonly type: 'check-fallback'; readonly origin: string; readonly reason: string }
  | { readonly type: 'daemon-stopped' };

export interface Reporter {
  emit(event: GitwatchEvent | DaemonEvent): void;
  /**
   * Resolves when the output has room again, or is undefined when it has room now. A step's output is
   * read no faster than this, so a slow reader of `-v` slows the step instead of filling gitwatch's memory.
   */
  backlog?(): Promise<void> | undefined;
  /** Waits until everything reported has been written. */
  close(): Promise<void>;
}
