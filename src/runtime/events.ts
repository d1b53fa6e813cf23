// What gitwatch reports while it works. Reporters (plain lines, JSON, listr2) turn these into output.

import type { RunStatus, StepStatus } from '../domain.js';

export type GitwatchEvent =
  | { readonly type: 'check-failed'; readonly repo: string; readonly error: string; readonly kind: string }
  | { readonly type: 'up-to-date'; readonly repo: string; readonly commit: string }
  | { readonly type: 'waiting'; readonly repo: string; readonly commit: string; readonly reason: string }
  | {
      readonly type: 'run-started';
      readonly repo: string;
      readonly branch: string;
      readonly commit: string;
      readonly previousCommit: string | undefined;
      readonly steps: readonly string[];
    }
  | { readonly type: 'step-started'; readonly repo: string; readonly step: string; readonly index: number }
  | { readonly type: 'step-output'; readonly repo: string; readonly step: string; readonly line: string }
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
  | { readonly type: 'daemon-stopping'; readonly signal: string }
  | { readonly type: 'daemon-stopped' };

export interface Reporter {
  emit(event: GitwatchEvent | DaemonEvent): void;
  /** Waits until everything reported has been written. */
  close(): Promise<void>;
}
