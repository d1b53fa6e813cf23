// What stays in a terminal's history: one line per finished run, and for a failed one the steps, the
// failing step's last lines and the log's path. The live view is erased; only these lines remain.

import { formatDuration } from '../rules/duration.js';
import type { RunStatus } from '../domain.js';
import type { DaemonEvent, GitwatchEvent } from './events.js';
import { daemonLine, unverifiedText } from './line-reporter.js';

export type StepState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'ignored' | 'interrupted' | 'skipped';

export interface StepView {
  readonly name: string;
  state: StepState;
  durationMs?: number | undefined;
  error?: string | undefined;
  /** The step's last lines, from its step-finished event. */
  tail: readonly string[];
  /** Every output line; kept only with --verbose. */
  readonly lines: string[];
}

export interface RunEnd {
  readonly status: RunStatus;
  readonly durationMs: number;
  readonly error?: string | undefined;
  readonly log?: string | undefined;
}

export interface RunView {
  readonly repo: string;
  readonly commit: string;
  /** What the run follows, in words: `main`, or `tag v1.2.0`. */
  readonly ref: string;
  readonly steps: readonly StepView[];
  /** Unset when the run ended without reporting its result (gitwatch is shutting down). */
  end?: RunEnd | undefined;
}

export interface Style {
  readonly ok: (s: string) => string;
  readonly bad: (s: string) => string;
  readonly warn: (s: string) => string;
  readonly dim: (s: string) => string;
}

const ansi = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function makeStyle(color: boolean): Style {
  const plain = (s: string): string => s;
  if (!color) return { ok: plain, bad: plain, warn: plain, dim: plain };
  return { ok: ansi(32, 39), bad: ansi(31, 39), warn: ansi(33, 39), dim: ansi(2, 22) };
}

export const short = (sha: string): string => sha.slice(0, 12);

export interface SummaryOptions {
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly style: Style;
}

/** The lines a finished run leaves: one when it went well, the story of the failure when it did not. */
export function runSummary(run: RunView, options: SummaryOptions): string[] {
  const { style } = options;
  const end = run.end;
  const ok = end !== undefined && (end.status === 'succeeded' || end.status === 'skipped');
  if (ok && options.quiet) return [];
  const took = end === undefined ? '' : ` in ${formatDuration(end.durationMs)}`;
  const what = end === undefined ? 'ended without a result' : `${end.status}${took}`;
  const ignored = run.steps.filter((s) => s.state === 'ignored').length;
  const note = ignored > 0 ? style.warn(` (${ignored} failed step${ignored === 1 ? '' : 's'} ignored: continue_on_error)`) : '';
  const head = `${run.repo} ${short(run.commit)} on ${run.ref} ${what}`;
  if (ok && !options.verbose) return [`${style.ok('✔')} ${head}${note}`];
  const lines = ok ? [`${style.ok('✔')} ${head}${note}`] : [`${style.bad('✖')} ${head}${end?.error ? `: ${end.error}` : ''}`];
  for (const step of run.steps) {
    lines.push(`  ${stepLine(step, style)}`);
    const shown = options.verbose ? step.lines : step.state === 'failed' || step.state === 'interrupted' || step.state === 'ignored' ? step.tail : [];
    for (const line of shown) lines.push(`    ${style.dim('│')} ${line}`);
  }
  if (!ok && end?.log) lines.push(`  ${style.dim('log:')} ${end.log}`);
  return lines;
}

function stepLine(step: StepView, style: Style): string {
  const took = step.durationMs === undefined ? '' : ` ${style.dim(formatDuration(step.durationMs))}`;
  // The line starts with the step's name already; its error need not say it again.
  const error = step.error?.replace(`step '${step.name}': `, '').replace(`step '${step.name}' `, '');
  switch (step.state) {
    case 'succeeded':
      return `${style.ok('✔')} ${step.name}${took}`;
    case 'ignored':
      return `${style.warn('⚠')} ${step.name}${took}: ${error ?? 'failed'} (continue_on_error)`;
    case 'failed':
    case 'interrupted':
      return `${style.bad('✖')} ${step.name}${took}: ${error ?? step.state}`;
    case 'skipped':
    case 'waiting':
      return `${style.dim('↓')} ${step.name} ${style.dim('skipped (not reached)')}`;
    case 'running':
      return `${style.bad('✖')} ${step.name}: did not finish`;
  }
}

/** Everything that is not a run: one plain line each, marked by what it means, never ✔ for a problem. */
export function eventLines(
  e:
    | Extract<
        GitwatchEvent,
        {
          type:
            | 'check-failed'
            | 'turn-failed'
            | 'run-queued'
            | 'up-to-date'
            | 'waiting'
            | 'paused'
            | 'disabled'
            | 'run-skipped'
            | 'state-failed'
            | 'target-gone'
            | 'unverified';
        }
      >
    | DaemonEvent,
  options: SummaryOptions,
): string[] {
  const { style, quiet } = options;
  switch (e.type) {
    case 'check-failed':
      return [`${style.bad('✖')} ${e.repo} check failed: ${e.error}`];
    case 'turn-failed':
      return [`${style.bad('✖')} ${e.repo} ${e.error}`];
    case 'up-to-date':
      return quiet ? [] : [`${style.ok('✔')} ${e.repo} up to date at ${short(e.commit)}`];
    case 'waiting':
      return quiet ? [] : [`${style.warn('⏸')} ${e.repo} ${short(e.commit)} ${e.reason}`];
    case 'target-gone':
      return [`${style.warn('⏸')} ${e.repo} branch '${e.branch}' is gone from the remote; stopped (its lock entry stays)`];
    case 'run-queued':
      return quiet ? [] : [`${style.warn('⏸')} ${e.repo} ${short(e.commit)} queued (${e.waitingFor})`];
    case 'paused':
      return quiet ? [] : [`${style.warn('⏸')} ${e.repo} paused; 'gitwatch resume ${e.repo}' checks it again`];
    case 'disabled':
      return quiet ? [] : [`${style.warn('⏸')} ${e.repo} disabled (enabled: false)`];
    case 'run-skipped':
      return quiet ? [] : [`${style.warn('↷')} ${e.repo} skipped ${short(e.commit)}: ${e.reason}`];
    case 'unverified':
      return [`${style.bad('✖')} ${e.repo} ${unverifiedText(e)}`];
    case 'state-failed':
      return [`${style.bad('✖')} ${e.repo} ${e.status} ${short(e.commit)} not recorded: ${e.error} (it runs again on the next check)`];
    case 'config-rejected':
      return daemonLine(e, quiet).map((l) => `${style.bad('✖')} ${l}`);
    default:
      return daemonLine(e, quiet);
  }
}
