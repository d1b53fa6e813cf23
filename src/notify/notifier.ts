// Notifications in the background: each finished run is handed over at once, so the next pipeline never
// waits for a receiver. A failed delivery (an error, a non-2xx answer, no answer within 10 s) is reported
// and tried once more; `close` waits for what is pending at most a bounded time, then abandons it.

import type { NotifyTarget } from '../config/types.js';
import type { FinishedRun } from '../cycle/turn.js';
import type { Env } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import { limiter } from '../runtime/limiter.js';
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

/** Deliveries at once: a receiver that hangs holds up only its own share. */
const PARALLEL = 4;
/** Deliveries waiting; past this a run's notifications are dropped (and said so) rather than pile up. */
const MAX_PENDING = 1000;

export class Notifier {
  private readonly limit = limiter(PARALLEL);
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private closed = false;

  constructor(private readonly deps: NotifierDeps) {}

  /** Queues the run's notifications and returns at once. */
  readonly notify = (run: FinishedRun): void => {
    if (this.closed) return;
    for (const [i, target] of run.repo.notify.entries()) {
      if (!wants(target, run)) continue;
      const name = `${i + 1} (${target.kind === 'url' ? target.format : 'command'})`;
      if (this.pending.size >= MAX_PENDING) {
        this.deps.reporter.emit({ type: 'notify-failed', repo: run.repo.name, target: name, error: 'too many notifications pending', retrying: false });
        continue;
      }
      const job = this.limit(() => this.deliver(target, name, run));
      this.pending.add(job);
      void job.finally(() => this.pending.delete(job));
    }
  };

  /** Waits for pending notifications at most `maxMs`, then abandons the rest. Nothing is queued after. */
  async close(maxMs: number): Promise<void> {
    this.closed = true;
    if (this.pending.size > 0) {
      const waiting = new AbortController();
      await Promise.race([Promise.allSettled([...this.pending]), this.deps.clock.sleep(maxMs, waiting.signal)]);
      waiting.abort();
    }
    this.stop.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async deliver(target: NotifyTarget, name: string, run: FinishedRun): Promise<void> {
    const { reporter, clock } = this.deps;
    for (let attempt = 1; attempt <= 2 && !this.stop.signal.aborted; attempt++) {
      try {
        await this.once(target, run);
        return;
      } catch (error) {
        const retrying = attempt === 1 && !this.stop.signal.aborted;
        reporter.emit({ type: 'notify-failed', repo: run.repo.name, target: name, error: masked(target, (error as Error).message), retrying });
        if (retrying) await clock.sleep(this.deps.retryDelayMs ?? 1000, this.stop.signal);
      }
    }
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
