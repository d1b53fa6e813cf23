// Output when stdout is not a terminal (CI, systemd): one plain line per event, or one JSON object per event.

import type { Writable } from 'node:stream';
import { formatDuration } from '../rules/duration.js';
import { jsonSafe, plainLine } from '../rules/safe-text.js';
import type { DaemonEvent, GitwatchEvent, Reporter } from './events.js';
import { followedRef, runCause } from './run-words.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface LineReporterOptions {
  readonly out: Writable;
  /** Diagnostics: a rejected config's problems. */
  readonly err: Writable;
  readonly verbosity: Verbosity;
  readonly now?: () => Date;
}

const short = (sha: string): string => sha.slice(0, 12);

export class PlainReporter implements Reporter {
  constructor(private readonly options: LineReporterOptions) {}

  emit(event: GitwatchEvent | DaemonEvent): void {
    if (event.type === 'config-rejected') this.options.err.write(`${event.detail}\n`);
    if (event.type === 'turn-failed' && event.stack !== undefined) this.options.err.write(`${event.stack}\n`);
    // Nobody's terminal is on the other end: a step's colours, titles or screen clears would only garble the log.
    for (const line of this.lines(event)) this.options.out.write(`${plainLine(line)}\n`);
  }

  private lines(e: GitwatchEvent | DaemonEvent): string[] {
    const quiet = this.options.verbosity === 'quiet';
    const verbose = this.options.verbosity === 'verbose';
    switch (e.type) {
      case 'check-failed':
        return [`${e.repo} ✖ check failed: ${e.error}`];
      case 'turn-failed':
        return [`${e.repo} ✖ ${e.error}`];
      case 'up-to-date':
        return quiet ? [] : [`${e.repo} ✔ up to date at ${short(e.commit)}`];
      case 'waiting':
        return quiet ? [] : [`${e.repo} · ${short(e.commit)} ${e.reason}`];
      case 'target-gone':
        return [`${e.repo} · branch '${e.branch}' is gone from the remote; stopped (its lock entry stays)`];
      case 'run-queued':
        return quiet ? [] : [`${e.repo} · ${short(e.commit)} queued (${e.waitingFor})`];
      case 'paused':
        return quiet ? [] : [`${e.repo} · paused; 'gitwatch resume ${e.repo}' checks it again`];
      case 'disabled':
        return quiet ? [] : [`${e.repo} · disabled (enabled: false)`];
      case 'run-skipped':
        return quiet ? [] : [`${e.repo} ↷ skipped ${short(e.commit)}: ${e.reason}`];
      case 'unverified':
        return [`${e.repo} ✖ ${unverifiedText(e)}`];
      case 'run-started': {
        if (quiet) return [];
        const head = `${e.repo} ▶ ${short(e.commit)} on ${followedRef(e)} (${runCause(e)})`;
        return e.cleaned?.length ? [head, cleanedLine(e.repo, e.cleaned)] : [head];
      }
      case 'step-started':
        return quiet ? [] : [`${e.repo} ${e.step} ▶`];
      case 'step-output':
        return verbose ? [`${e.repo} ${e.step} │ ${e.line}`] : [];
      case 'step-finished': {
        const took = formatDuration(e.durationMs);
        if (e.status === 'succeeded') return quiet ? [] : [`${e.repo} ${e.step} ✔ ${took}`];
        const head = `${e.repo} ${e.step} ✖ ${took}: ${e.error ?? e.status}${e.ignored ? ' (continue_on_error)' : ''}`;
        return verbose ? [head] : [head, ...e.tail.map((l) => `${e.repo} ${e.step} │ ${l}`)];
      }
      case 'step-skipped':
        return quiet ? [] : [`${e.repo} ${e.step} - skipped`];
      case 'run-finished': {
        const took = formatDuration(e.durationMs);
        if (e.status === 'succeeded' || e.status === 'skipped') return quiet ? [] : [`${e.repo} ✔ ${e.status} ${short(e.commit)} in ${took}`];
        const log = e.log ? ` (log: ${e.log})` : '';
        return [`${e.repo} ✖ ${e.status} ${short(e.commit)} in ${took}: ${e.error ?? e.status}${log}`];
      }
      case 'state-failed':
        return [`${e.repo} ✖ ${e.status} ${short(e.commit)} not recorded: ${e.error} (it runs again on the next check)`];
      default:
        return daemonLine(e, quiet);
    }
  }

  backlog(): Promise<void> | undefined {
    return roomIn(this.options.out);
  }

  async close(): Promise<void> {}
}

/** A refused head, the same words on every output: what was wrong, and that nothing ran. */
export function unverifiedText(e: Extract<GitwatchEvent, { type: 'unverified' }>): string {
  return `unverified: ${e.reason}; not checked out, nothing runs`;
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

function cleanedLine(repo: string, paths: readonly string[]): string {
  const shown = paths.slice(0, 5).join(', ') + (paths.length > 5 ? ', …' : '');
  return `${repo} · removed ${paths.length} path${paths.length === 1 ? '' : 's'} the last run left in the checkout, before fetching: ${shown}`;
}

/** Waits for 'drain' when `out` holds more than its buffer; a stream that closes or fails has room enough. */
export function roomIn(out: Writable): Promise<void> | undefined {
  if (!out.writableNeedDrain) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'close', 'error']) out.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) out.on(event, done);
  });
}

export function daemonLine(e: DaemonEvent, quiet: boolean): string[] {
  switch (e.type) {
    case 'daemon-started':
      return quiet ? [] : [`gitwatch running (pid ${e.pid}), watching ${e.repos.length} repo${e.repos.length === 1 ? '' : 's'}: ${e.repos.join(', ')}`];
    case 'config-reloaded': {
      const parts = [
        ['added', e.added],
        ['removed', e.removed],
        ['changed', e.changed],
      ] as const;
      const said = parts.filter(([, names]) => names.length > 0).map(([what, names]) => `${what} ${names.join(', ')}`);
      return [`config reloaded: ${said.length > 0 ? said.join('; ') : 'no repo changed'}`];
    }
    case 'config-rejected':
      return [`config rejected (${e.problems} problem${e.problems === 1 ? '' : 's'}, see stderr); still running the previous config`];
    case 'listening':
      return quiet ? [] : [`listening on ${e.url} (/healthz, /metrics, /hooks/<repo>)`];
    case 'notify-failed':
      return [`${e.repo} ✖ notification ${e.target} failed: ${e.error}${e.retrying ? '; trying once more' : ''}`];
    case 'store-compacted':
      if (e.error !== undefined) return [`${e.repo} · git store not compacted: ${e.error}`];
      return quiet ? [] : [`${e.repo} · git store compacted: ${mib(e.beforeBytes)} → ${mib(e.afterBytes)}`];
    case 'check-fallback':
      return quiet ? [] : [`checks of ${e.origin} run git: ${e.reason}`];
    case 'daemon-stopping': {
      const head = `stopping (${e.signal}): no new work; a running step gets SIGTERM`;
      if (e.waitingFor.length === 0) return [head];
      return [head, `stopping: waiting up to ${formatDuration(e.graceMs)} for ${e.waitingFor.join(', ')} (${again(e.signal)} to stop it now)`];
    }
    case 'daemon-stopping-now': {
      const what = e.killed.length > 0 ? `killed ${e.killed.join(', ')}` : 'nothing was running';
      return [`stopping now (${e.signal} again): ${what}`];
    }
    case 'daemon-stopped':
      return quiet ? [] : ['stopped'];
  }
}

/** How a person sends the stopping signal once more: Ctrl-C is SIGINT on a terminal. */
function again(signal: string): string {
  return signal === 'SIGINT' ? 'Ctrl-C again' : `${signal} again`;
}

export class JsonReporter implements Reporter {
  constructor(private readonly options: LineReporterOptions) {}

  emit(event: GitwatchEvent | DaemonEvent): void {
    if (event.type === 'step-output' && this.options.verbosity !== 'verbose') return;
    if (event.type === 'config-rejected') this.options.err.write(`${event.detail}\n`);
    this.options.out.write(`${jsonLine(event, this.options.now?.() ?? new Date())}\n`);
  }

  backlog(): Promise<void> | undefined {
    return roomIn(this.options.out);
  }

  async close(): Promise<void> {}
}

/** One event as `--log-format json` prints it, without its newline: the status page's events are the same. */
export function jsonLine(event: GitwatchEvent | DaemonEvent, time: Date): string {
  return jsonSafe(JSON.stringify({ time: time.toISOString(), event: event.type, ...withoutType(event) }));
}

function withoutType(event: GitwatchEvent | DaemonEvent): Omit<GitwatchEvent | DaemonEvent, 'type'> {
  const { type: _type, ...rest } = event;
  return rest;
}
