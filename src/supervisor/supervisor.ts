// The daemon's heart: one worker per repo, each on its own interval, sharing one pipeline queue.
//
//   idle ──(interval due, trigger, reload)──▶ checking ──(new commit)──▶ queued ──▶ running ──▶ idle
//                                                │
//                                                └──(check failed)──▶ backoff ──(delay)──▶ checking
//
// Stop (repo removed) or shutdown ends a worker from any state; a running pipeline finishes (removal) or
// is interrupted (shutdown). Time comes from the injected clock, so tests drive scheduling without waiting.

import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { checkRepo, prepareRun, runPrepared, type CycleDeps } from '../cycle/cycle.js';
import { limiter, type Limit } from '../runtime/limiter.js';
import { PipelineQueue } from './pipeline-queue.js';

export type Phase = 'idle' | 'checking' | 'queued' | 'running' | 'backoff' | 'stopped';

export interface WorkerSnapshot {
  readonly repo: string;
  readonly phase: Phase;
  readonly nextCheckAt: Date | undefined;
  readonly failures: number;
  readonly checks: number;
}

export interface SupervisorDeps extends CycleDeps {
  /** 0 ≤ random() < 1, for jitter. */
  readonly random: () => number;
}

/** Longest wait between checks of a remote that keeps failing. */
const MAX_BACKOFF_MS = 5 * 60_000;

export function backoffDelay(intervalMs: number, failures: number): number {
  return Math.min(intervalMs * 2 ** Math.min(failures, 20), Math.max(intervalMs, MAX_BACKOFF_MS));
}

class RepoWorker {
  phase: Phase = 'idle';
  nextCheckAt: Date | undefined;
  failures = 0;
  checks = 0;
  private stopped = false;
  private wake = new AbortController();
  private triggered = false;
  readonly done: Promise<void>;

  constructor(
    public repo: RepoConfig,
    private readonly sup: Supervisor,
    /** A removed worker of the same name that is still finishing: two workers never share a checkout. */
    predecessor: Promise<void> = Promise.resolve(),
  ) {
    this.done = predecessor.then(() => this.loop());
  }

  /** Check now instead of waiting out the interval. */
  poke(trigger = false): void {
    this.triggered ||= trigger;
    this.wake.abort();
  }

  stop(): void {
    this.stopped = true;
    this.wake.abort();
  }

  private get active(): boolean {
    return !this.stopped && !this.sup.deps.signal?.aborted;
  }

  private set(phase: Phase): void {
    this.phase = phase;
    this.sup.changed();
  }

  private async loop(): Promise<void> {
    const { deps } = this.sup;
    while (this.active) {
      this.wake = new AbortController();
      this.set('checking');
      const repo = this.repo;
      let delay = this.jittered(repo.intervalMs);
      try {
        delay = await this.iteration(repo, delay);
      } catch (err) {
        // A local failure (disk full, a checkout path that is a file) fails this repo's turn, never the daemon.
        deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: `${(err as Error).message}`, kind: 'other' });
        this.failures++;
        delay = backoffDelay(repo.intervalMs, this.failures);
      }
      if (!this.active) break;
      this.nextCheckAt = new Date(deps.clock.now().getTime() + delay);
      this.set(this.failures > 0 ? 'backoff' : 'idle');
      // Shutdown aborts every worker's wake signal (see Supervisor), so one signal per sleep is enough.
      if (!this.wake.signal.aborted) await deps.clock.sleep(delay, this.wake.signal);
    }
    this.nextCheckAt = undefined;
    this.set('stopped');
  }

  /** One check, and the run it calls for; returns the delay until the next check. */
  private async iteration(repo: RepoConfig, interval: number): Promise<number> {
    const { deps } = this.sup;
    let delay = interval;
    const check = await this.sup.limit(() => checkRepo(this.sup.config, repo, deps));
    this.checks++;
    if (!check.ok) {
      if (check.error.kind !== 'aborted') deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: check.error.message, kind: check.error.kind });
      this.failures++;
      delay = backoffDelay(repo.intervalMs, this.failures);
    } else {
      this.failures = 0;
      const trigger = this.triggered;
      this.triggered = false;
      const quiet = { ...deps, reportIdle: this.checks === 1 };
      // Fetch and checkout happen here, outside the queue, so a slow fetch never holds up another repo's pipeline.
      const prepared = this.active ? await this.sup.limit(() => prepareRun(this.sup.config, repo, check.head, quiet, trigger)) : undefined;
      if (prepared?.kind === 'done' && prepared.error) {
        // A trigger whose fetch failed still runs when the remote answers again.
        this.triggered ||= trigger;
        deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: prepared.error.message, kind: prepared.error.kind });
        this.failures++;
        delay = backoffDelay(repo.intervalMs, this.failures);
      }
      if (prepared?.kind === 'ready' && this.active) {
        this.set('queued');
        await this.sup.queue.exclusive(this.sup.rank(repo.name), async () => {
          // The repo may have been removed, or the daemon stopped, while it waited its turn.
          if (!this.active) return;
          this.set('running');
          await runPrepared(this.sup.config, repo, prepared, quiet);
        });
      }
    }
    return delay;
  }

  /** Up to 10% later than the interval, so many repos do not fire at once. */
  private jittered(intervalMs: number): number {
    return Math.round(intervalMs * (1 + 0.1 * this.sup.deps.random()));
  }
}

export class Supervisor {
  readonly queue = new PipelineQueue();
  /** Checks and fetches across all workers: a thousand repos starting at once do not start a thousand gits. */
  readonly limit: Limit;
  private readonly workers = new Map<string, RepoWorker>();
  private readonly retired = new Map<string, Promise<void>>();
  private listeners: (() => void)[] = [];

  constructor(
    public config: ResolvedConfig,
    readonly deps: SupervisorDeps,
  ) {
    this.limit = limiter(deps.concurrency);
    for (const repo of config.repos) this.workers.set(repo.name, new RepoWorker(repo, this));
    deps.signal?.addEventListener('abort', () => {
      for (const worker of this.workers.values()) worker.poke();
    }, { once: true });
  }

  rank(name: string): number {
    const i = this.config.repos.findIndex((r) => r.name === name);
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  }

  /** Applies a new config per repo: added repos start, removed ones stop, changed ones check at once with their new settings. */
  apply(next: ResolvedConfig): { added: string[]; removed: string[]; changed: string[] } {
    const before = new Map(this.config.repos.map((r) => [r.name, r]));
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    this.config = next;
    for (const repo of next.repos) {
      const old = before.get(repo.name);
      const worker = this.workers.get(repo.name);
      if (old === undefined || worker === undefined) {
        added.push(repo.name);
        this.workers.set(repo.name, new RepoWorker(repo, this, this.retired.get(repo.name)));
      } else if (JSON.stringify(old) !== JSON.stringify(repo)) {
        changed.push(repo.name);
        worker.repo = repo;
        worker.poke();
      }
    }
    for (const name of before.keys()) {
      if (next.repos.some((r) => r.name === name)) continue;
      removed.push(name);
      const worker = this.workers.get(name);
      this.workers.delete(name);
      if (worker) {
        worker.stop();
        this.retired.set(name, worker.done);
      }
    }
    this.changed();
    return { added, removed, changed };
  }

  /** Runs the repo's pipeline next, new commit or not. */
  trigger(name: string): boolean {
    const worker = this.workers.get(name);
    worker?.poke(true);
    return worker !== undefined;
  }

  snapshot(): WorkerSnapshot[] {
    return [...this.workers.values()].map((w) => ({ repo: w.repo.name, phase: w.phase, nextCheckAt: w.nextCheckAt, failures: w.failures, checks: w.checks }));
  }

  changed(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }

  /** Resolves when `predicate` holds for the snapshot; for tests and for the first-cycle health signal. */
  async until(predicate: (s: WorkerSnapshot[]) => boolean): Promise<void> {
    while (!predicate(this.snapshot())) await new Promise<void>((resolve) => this.listeners.push(resolve));
  }

  /** Resolves once the shutdown signal has aborted and every worker, current or retired, has ended. */
  async finished(): Promise<void> {
    const { signal } = this.deps;
    if (signal && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    await Promise.all([...[...this.workers.values()].map((w) => w.done), ...this.retired.values()]);
  }
}
