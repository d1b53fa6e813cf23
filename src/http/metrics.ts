// The daemon's Prometheus metrics, counted from what it reports: a tee in front of its reporter sees every
// finished run, and the cycle's `onCheck` hook sees every check (the daemon reports idle checks only once).
// A registry of its own, not prom-client's global one, so nothing else can add to or reset it.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Reporter } from '../runtime/events.js';
import type { StateKeeper } from '../state/state-keeper.js';

const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export class Metrics {
  readonly registry = new Registry();
  private readonly checks = new Counter({
    name: 'gitwatch_checks_total',
    help: 'Checks of a remote for a new commit, by result (ok or failed).',
    labelNames: ['repo', 'result'] as const,
    registers: [this.registry],
  });
  private readonly runs = new Counter({
    name: 'gitwatch_runs_total',
    help: 'Finished pipeline runs, by status (succeeded, failed, skipped, interrupted).',
    labelNames: ['repo', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'gitwatch_run_duration_seconds',
    help: 'Wall time of finished pipeline runs.',
    labelNames: ['repo'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  private readonly lastSuccess = new Gauge({
    name: 'gitwatch_last_success_timestamp_seconds',
    help: 'When the last succeeded run finished, in seconds since the epoch.',
    labelNames: ['repo'] as const,
    registers: [this.registry],
  });
  private readonly up = new Gauge({
    name: 'gitwatch_repo_up',
    help: '1 when the last check of the remote succeeded, else 0.',
    labelNames: ['repo'] as const,
    registers: [this.registry],
  });

  private readonly queueWait = new Histogram({
    name: 'gitwatch_queue_wait_seconds',
    help: 'How long a run waited for its turn (concurrency.pipelines, its group) after its commit was fetched.',
    labelNames: ['repo'] as const,
    buckets: [0.01, 0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  private readonly turnFailures = new Counter({
    name: 'gitwatch_turn_failures_total',
    help: 'Turns of a repo that failed on this machine (kind local: disk full, permissions) or on a bug in gitwatch (kind internal).',
    labelNames: ['repo', 'kind'] as const,
    registers: [this.registry],
  });

  /** Every followed repo (and glob target) and whether it is pinned now; read at each scrape. */
  private pins: () => readonly (readonly [string, boolean])[] = () => [];
  private readonly pinned = new Gauge({
    name: 'gitwatch_pinned',
    help: "1 when the repo runs a pinned commit instead of its ref's head (gitwatch rollback, or the config's commit:), else 0.",
    labelNames: ['repo'] as const,
    registers: [this.registry],
    collect: () => {
      this.pinned.reset();
      for (const [repo, on] of this.pins()) this.pinned.set({ repo }, on ? 1 : 0);
    },
  });

  private readonly verifyFailures = new Counter({
    name: 'gitwatch_verify_failures_total',
    help: 'Heads (or tags) that verify: refused for their signature (unsigned, unknown key, bad signature, expired key): not checked out, nothing ran. Counted each time one is verified, not on every check of the same head.',
    labelNames: ['repo'] as const,
    registers: [this.registry],
  });

  constructor(private readonly now: () => Date) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client's `nodejs_active_{handles,requests,resources}_total` are gauges, and a name that ends in
    // `_total` says counter (promtool flags them). Each is the sum of its by-type gauge, which stays:
    // `sum(nodejs_active_handles)` gives the same number.
    for (const name of MISNAMED_GAUGES) this.registry.removeSingleMetric(name);
  }

  /**
   * Zeroes for each repo (and each one's `verify:` refusals, `verified` naming those that verify), so rates
   * work from the first scrape; the last success comes from the state.
   */
  seed(repos: readonly string[], state: StateKeeper, verified: readonly string[] = []): void {
    for (const repo of verified) this.verifyFailures.inc({ repo }, 0);
    for (const repo of repos) {
      this.checks.inc({ repo, result: 'ok' }, 0);
      this.checks.inc({ repo, result: 'failed' }, 0);
      this.up.set({ repo }, 0);
      const last = state.entry(repo)?.lastRun;
      if (last?.status === 'succeeded') this.lastSuccess.set({ repo }, Date.parse(last.finishedAt) / 1000);
    }
  }

  /** Where `gitwatch_pinned` comes from: the lock and the config, as they are when scraped. */
  watchPins(source: () => readonly (readonly [string, boolean])[]): void {
    this.pins = source;
  }

  readonly onCheck = (repo: string, ok: boolean): void => {
    this.checks.inc({ repo, result: ok ? 'ok' : 'failed' });
    this.up.set({ repo }, ok ? 1 : 0);
  };

  readonly onQueueWait = (repo: string, waitMs: number): void => {
    this.queueWait.observe({ repo }, waitMs / 1000);
  };

  readonly onTurnFailed = (repo: string, kind: 'local' | 'internal'): void => {
    this.turnFailures.inc({ repo, kind });
  };

  /** `inner`, with every finished run counted on the way. */
  tee(inner: Reporter): Reporter {
    return {
      emit: (event) => {
        if (event.type === 'run-finished') {
          const { repo, status } = event;
          this.runs.inc({ repo, status });
          this.duration.observe({ repo }, event.durationMs / 1000);
          if (status === 'succeeded') this.lastSuccess.set({ repo }, this.now().getTime() / 1000);
        }
        // A commit recorded as skipped (paths, a skip marker) ran nothing: counted, with no duration.
        if (event.type === 'run-skipped') this.runs.inc({ repo: event.repo, status: 'skipped' });
        if (event.type === 'unverified') this.verifyFailures.inc({ repo: event.repo });
        inner.emit(event);
      },
      // A slow reader of -v output still slows the step, through every layer in front of it.
      backlog: () => inner.backlog?.(),
      close: () => inner.close(),
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
