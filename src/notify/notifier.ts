// Notifications in the background: each finished run is handed over at once, so the next pipeline never
// waits for a receiver. A failed delivery (an error, a non-2xx answer, no answer within 10 s) is reported
// and tried once more; `close` waits for what is pending at most a bounded time, then abandons it and says
// what it abandoned. Each receiver (a URL's origin, or a command) has a lane of its own: one that hangs
// holds up only the notifications meant for it.

import type { NotifyTarget } from '../config/types.js';
import type { FinishedRun } from '../cycle/turn.js';
import type { Env } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import { limiter, type Limit } from '../runtime/limiter.js';
import { maskableSecrets, maskText } from '../rules/secret-mask.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { post, runCommand } from './deliver.js';
import { bodyFor, wants } from './message.js';

export interface NotifierDeps {
  readonly reporter: Reporter;
  readonly clock: Clock;
  readonly env: Env;
  readonly groups: ProcessGroups;
  /** Where commands run: the config file's folder. */
  readonly cwd: string;
  /** Per delivery attempt. */
  readonly timeoutMs?: number;
  readonly retryDelayMs?: number;
}

/** Deliveries at once to one receiver. */
const PER_RECEIVER = 2;
/** Deliveries at once in all: a burst to many receivers does not open a socket or a shell for each. */
const PARALLEL = 32;
/** Deliveries waiting per receiver; past this a run's notification to it is dropped (and said so) rather than pile up. */
const MAX_PENDING = 200;

interface Lane {
  readonly limit: Limit;
  pending: number;
}

export class Notifier {
  private readonly all = limiter(PARALLEL);
  private readonly lanes = new Map<string, Lane>();
  private readonly pending = new Set<Promise<void>>();
  /** What shutdown abandoned, per repo and target, said once at the end. */
  private readonly dropped = new Map<string, { readonly repo: string; readonly target: string; count: number }>();
  private readonly stop = new AbortController();
  private closed = false;

  constructor(private readonly deps: NotifierDeps) {}

  /** Queues the run's notifications and returns at once. */
  readonly notify = (run: FinishedRun): void => {
    if (this.closed) return;
    for (const [i, target] of run.repo.notify.entries()) {
      if (!wants(target, run)) continue;
      const name = `${i + 1} (${target.kind === 'url' ? target.format : 'command'})`;
      const key = receiverOf(target);
      const lane = this.lanes.get(key) ?? { limit: limiter(PER_RECEIVER), pending: 0 };
      if (lane.pending >= MAX_PENDING) {
        this.deps.reporter.emit({ type: 'notify-failed', repo: run.repo.name, target: name, error: 'too many notifications pending', retrying: false });
        continue;
      }
      this.lanes.set(key, lane);
      lane.pending++;
      const job = lane.limit(() => this.all(() => this.deliver(target, name, run)));
      this.pending.add(job);
      void job.finally(() => {
        this.pending.delete(job);
        if (--lane.pending === 0) this.lanes.delete(key);
      });
    }
  };

  /** Waits for pending notifications at most `maxMs`, then abandons the rest and names them. Nothing is queued after. */
  async close(maxMs: number): Promise<void> {
    this.closed = true;
    if (this.pending.size > 0) {
      const waiting = new AbortController();
      await Promise.race([Promise.allSettled([...this.pending]), this.deps.clock.sleep(maxMs, waiting.signal)]);
      waiting.abort();
    }
    this.stop.abort();
    await Promise.allSettled([...this.pending]);
    for (const { repo, target, count } of this.dropped.values()) {
      const error = count === 1 ? 'dropped at shutdown' : `dropped at shutdown (${count} runs)`;
      this.deps.reporter.emit({ type: 'notify-failed', repo, target, error, retrying: false });
    }
    this.dropped.clear();
  }

  private async deliver(target: NotifyTarget, name: string, run: FinishedRun): Promise<void> {
    const { reporter, clock } = this.deps;
    const { signal } = this.stop;
    for (let attempt = 1; attempt <= 2; attempt++) {
      if (signal.aborted) return this.drop(run.repo.name, name);
      try {
        await this.once(target, run);
        return;
      } catch (error) {
        // Cut short by shutdown: said with the others shutdown abandoned.
        if (signal.aborted) return this.drop(run.repo.name, name);
        const retrying = attempt === 1;
        reporter.emit({ type: 'notify-failed', repo: run.repo.name, target: name, error: masked(target, (error as Error).message), retrying });
        if (retrying) await clock.sleep(this.deps.retryDelayMs ?? 1000, signal);
      }
    }
  }

  private drop(repo: string, target: string): void {
    const key = JSON.stringify([repo, target]);
    const seen = this.dropped.get(key);
    if (seen) seen.count++;
    else this.dropped.set(key, { repo, target, count: 1 });
  }

  private once(target: NotifyTarget, finished: FinishedRun): Promise<void> {
    const run = this.told(finished);
    const options = { timeoutMs: this.deps.timeoutMs ?? 10_000, signal: this.stop.signal };
    if (target.kind === 'url') return post(target.url, bodyFor(target.format, run, target.on), options);
    return runCommand(target.command, bodyFor('json', run, target.on), { ...options, cwd: this.deps.cwd, env: this.deps.env, groups: this.deps.groups });
  }

  /** The run as a notification tells it: a secret in its error shows as `***`, as it does in step output. */
  private told(run: FinishedRun): FinishedRun {
    const error = run.run.error;
    if (error === undefined) return run;
    const secrets = maskableSecrets(run.repo.secretVars.map((name) => this.deps.env[name]));
    return { ...run, run: { ...run.run, error: maskText(error, secrets) } };
  }
}

/** Who receives a target's notifications: the URL's origin (a host that hangs hangs for every path), or the command. */
function receiverOf(target: NotifyTarget): string {
  if (target.kind !== 'url') return `command ${target.command}`;
  return URL.canParse(target.url) ? `url ${new URL(target.url).origin}` : `url ${target.url}`;
}

/** The URL and every secret interpolated into it, out of a message. */
export function masked(target: NotifyTarget, message: string): string {
  if (target.kind !== 'url') return message;
  const secrets = [target.url, ...target.secrets, ...userinfo(target.url)].filter((s) => s.length > 0);
  // Longest first, so a secret inside the URL does not leave the rest of the URL behind.
  return secrets.sort((a, b) => b.length - a.length).reduce((text, secret) => text.split(secret).join('***'), message);
}

function userinfo(url: string): string[] {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed) return [];
  const decoded = [parsed.username, parsed.password].map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return [parsed.username, parsed.password, ...decoded];
}
