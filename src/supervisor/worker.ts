// What every daemon worker shares: its phase and the table of moves between phases, its wake signal, the
// waiters of `trigger --wait`, and the loop that asks the two rules of cycle/schedule.ts (may it run now;
// when to look again) around each turn.
//
//   idle ──(interval due, trigger, reload, resume)──▶ checking ──(new commit)──▶ queued ──▶ running
//     ▲                                                  │                                   │
//     └────────────────────── idle or backoff ◀──────────┴───────────────────────────────────┘
//   idle, backoff ──(admit says hold)──▶ paused | disabled ──(resume, reload, trigger)──▶ checking
//   any phase ──(a bug in the worker)──▶ backoff, then the loop starts again
//
// Every turn ends in idle or backoff, so a pause or a disable that came during a check or a run takes hold
// from there. Stop (removal) and shutdown end the worker from any phase. Time comes from the injected clock.

import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { admit, backoffDelay, isPaused, nextCheck, type Admission, type TurnEnd } from '../cycle/schedule.js';
import { describeFailure, failureKind, toTurnFailure, type TurnFailure } from '../cycle/turn-failure.js';
import type { CycleDeps } from '../cycle/turn.js';
import type { Target } from '../cycle/targets.js';
import type { Phase } from '../domain.js';
import type { Limit } from '../runtime/limiter.js';

export const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  idle: ['checking', 'paused', 'disabled', 'backoff', 'stopped'],
  checking: ['queued', 'idle', 'backoff', 'stopped'],
  queued: ['running', 'idle', 'backoff', 'stopped'],
  running: ['idle', 'backoff', 'stopped'],
  backoff: ['checking', 'paused', 'disabled', 'stopped'],
  paused: ['checking', 'disabled', 'backoff', 'stopped'],
  disabled: ['checking', 'paused', 'backoff', 'stopped'],
  stopped: [],
};

/**
 * How a triggered run ended, for `trigger --wait`; `check-failed` when the remote could not be reached,
 * `unverified` when `verify:` refused the head (nothing ran).
 */
export interface TriggerResult {
  readonly status: 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'check-failed' | 'unverified';
  readonly error?: string | undefined;
}

export type TriggerWaiter = (result: TriggerResult) => void;

export interface WorkerSnapshot {
  readonly repo: string;
  readonly phase: Phase;
  readonly nextCheckAt: Date | undefined;
  readonly failures: number;
  readonly checks: number;
  /** What the last failed turn said, until a turn succeeds. */
  readonly lastCheckError: string | undefined;
  /** The kind of that failure: a git error's kind, `local` or `internal`. */
  readonly lastErrorKind: string | undefined;
  /** A queued repo: what it waits for (`behind api`, `group deploy: api`). */
  readonly waitingFor: string | undefined;
  readonly paused: boolean;
  /** The ref's head at the last check that answered. */
  readonly head: string | undefined;
}

export interface SupervisorDeps extends CycleDeps {
  /** 0 ≤ random() < 1, for jitter. */
  readonly random: () => number;
  /** Fetches after which a repo's git store is compacted (default COMPACT_AFTER_FETCHES). */
  readonly compactAfterFetches?: number;
  /** Told every phase change (tests check them against TRANSITIONS). */
  readonly onPhase?: (repo: string, from: Phase, to: Phase) => void;
}

/** All a worker may ask of the supervisor. */
export interface WorkerHost {
  readonly deps: SupervisorDeps;
  readonly limit: Limit;
  config(): ResolvedConfig;
  /** Runs `task` when `repo` may run (concurrency.pipelines, its group); `queued` hears why it waits. */
  exclusive(repo: RepoConfig, task: () => Promise<void>, queued: (why: string) => void): Promise<void>;
  /** Why a queued repo waits (`behind api`, `group deploy: api`). */
  waitingFor(name: string): string | undefined;
  phaseChanged(): void;
  /** A glob worker's listing: start, update and stop its targets' workers. */
  reconcile(glob: RepoConfig, found: readonly Target[], trigger: TriggerWaiter | undefined): void;
}

export abstract class Worker {
  protected phase: Phase = 'idle';
  protected nextCheckAt: Date | undefined;
  protected failures = 0;
  protected checks = 0;
  protected lastError: string | undefined;
  protected lastErrorKind: string | undefined;
  protected stopped = false;
  protected wake = new AbortController();
  protected triggered = false;
  protected waiters: TriggerWaiter[] = [];
  /** The ref's head at the last check that answered (shown beside a pin). */
  protected head: string | undefined;
  /** A glob's target: its glob worker wakes it; it keeps no timer of its own. */
  protected passive = false;
  abstract readonly done: Promise<void>;

  constructor(
    protected repo: RepoConfig,
    protected readonly host: WorkerHost,
  ) {}

  get name(): string {
    return this.repo.name;
  }

  /** The repo's settings as the worker runs them now. */
  get settings(): RepoConfig {
    return this.repo;
  }

  /** New settings take effect from the next check, which starts at once. */
  update(repo: RepoConfig): void {
    this.repo = repo;
    this.poke();
  }

  /** Check now instead of waiting out the interval (a webhook, a reload, resume). */
  poke(trigger = false): void {
    this.triggered ||= trigger;
    this.wake.abort();
  }

  /** Runs the pipeline at the next check, new commit or not; `onRun` hears how that run ended. */
  trigger(onRun?: TriggerWaiter): void {
    if (onRun) this.waiters.push(onRun);
    this.poke(true);
  }

  stop(): void {
    this.stopped = true;
    this.wake.abort();
    this.settleWaiters({ status: 'interrupted', error: 'the repo was removed from the config' });
  }

  /** The last turn failed: a reload checks it at once, since the fix may be what was reloaded. */
  get failing(): boolean {
    return this.failures > 0;
  }

  snapshot(): WorkerSnapshot {
    return {
      repo: this.repo.name,
      phase: this.phase,
      nextCheckAt: this.nextCheckAt,
      failures: this.failures,
      checks: this.checks,
      lastCheckError: this.lastError,
      lastErrorKind: this.lastErrorKind,
      waitingFor: this.phase === 'queued' ? this.host.waitingFor(this.repo.name) : undefined,
      paused: isPaused(this.repo, (name) => this.host.deps.state.entry(name)),
      head: this.head,
    };
  }

  protected get active(): boolean {
    return !this.stopped && !this.host.deps.signal?.aborted;
  }

  /** May the repo run now: the rule of cycle/schedule.ts, on the lock's pause marks and the config. */
  protected admission(trigger = this.triggered): Admission {
    return admit(this.repo, (name) => this.host.deps.state.entry(name), trigger);
  }

  protected set(phase: Phase): void {
    if (phase === this.phase) return;
    if (!TRANSITIONS[this.phase].includes(phase)) throw new Error(`worker ${this.repo.name}: no transition from ${this.phase} to ${phase}`);
    const from = this.phase;
    this.phase = phase;
    this.host.deps.onPhase?.(this.repo.name, from, phase);
    this.host.phaseChanged();
  }

  protected settleWaiters(result: TriggerResult): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(result);
  }

  /** One turn: a check and what it calls for. Converts its own failures (see failed()); never throws by design. */
  protected abstract turn(repo: RepoConfig): Promise<TurnEnd>;

  /** What must end before the worker counts as stopped. */
  protected finishing(): Promise<void> {
    return Promise.resolve();
  }

  /** The worker's life. Never rejects: a bug in one worker is contained here and the worker starts again. */
  protected async loop(): Promise<void> {
    while (this.active) {
      try {
        await this.step();
      } catch (error) {
        await this.restart(error);
      }
    }
    this.nextCheckAt = undefined;
    await this.finishing().catch(() => undefined);
    this.set('stopped');
    this.settleWaiters({ status: 'interrupted', error: 'gitwatch is stopping' });
  }

  private async step(): Promise<void> {
    const { deps } = this.host;
    // A wake that came before this point is spent here; an unspent signal is kept (one less object a check).
    if (this.wake.signal.aborted) this.wake = new AbortController();
    const admission = this.admission();
    if (!admission.admitted) {
      // Paused or disabled: no timer; resume, a reload, a trigger, removal or shutdown wakes it.
      this.nextCheckAt = undefined;
      this.set(admission.hold);
      await woken(this.wake.signal);
      return;
    }
    this.nextCheckAt = undefined;
    this.set('checking');
    const end = await this.turn(this.repo);
    if (!this.active) return;
    this.set(this.failures > 0 ? 'backoff' : 'idle');
    const next = nextCheck({
      repo: this.repo,
      end,
      failures: this.failures,
      entry: deps.state.entry(this.repo.name),
      now: deps.clock.now().getTime(),
      random: deps.random(),
      passive: this.passive,
      // Paused or disabled during the turn: back to the top, where the hold takes effect.
      held: !this.admission().admitted,
    });
    if (next.delayMs === undefined) {
      this.nextCheckAt = undefined;
      if (this.admission().admitted) await woken(this.wake.signal);
      return;
    }
    this.nextCheckAt = new Date(deps.clock.now().getTime() + next.delayMs);
    // Shutdown aborts every worker's wake signal (see Supervisor), so one signal per sleep is enough.
    if (!this.wake.signal.aborted) await deps.clock.sleep(next.delayMs, this.wake.signal);
  }

  /**
   * A bug escaped a turn: said once with its stack, counted as this repo's internal error, and the worker
   * backs off and starts again. Whoever waits for a triggered run hears that it failed.
   */
  private async restart(error: unknown): Promise<void> {
    const failure = toTurnFailure(error);
    this.failed(failure);
    this.settleWaiters({ status: 'failed', error: describeFailure(failure) });
    // The phase the bug left behind may have no edge to backoff; the restart is the edge.
    if (this.phase !== 'stopped') {
      if (!TRANSITIONS[this.phase].includes('backoff')) this.phase = 'idle';
      this.set('backoff');
    }
    if (!this.active) return;
    const delay = backoffDelay(this.repo.intervalMs, this.failures);
    this.nextCheckAt = new Date(this.host.deps.clock.now().getTime() + delay);
    if (this.wake.signal.aborted) this.wake = new AbortController();
    await this.host.deps.clock.sleep(delay, this.wake.signal);
  }

  /**
   * A failed turn: reported unless it repeats the last cause (a wrong password does not fix itself, and a
   * line a minute about it helps nobody), and counted for the backoff.
   */
  protected failed(failure: TurnFailure): void {
    const message = describeFailure(failure);
    if (message !== this.lastError) {
      const { reporter } = this.host.deps;
      if (failure.kind === 'git') reporter.emit({ type: 'check-failed', repo: this.repo.name, error: message, kind: failure.error.kind });
      else
        reporter.emit({
          type: 'turn-failed',
          repo: this.repo.name,
          error: message,
          kind: failure.kind,
          stack: failure.kind === 'internal' ? failure.stack : undefined,
        });
    }
    if (failure.kind !== 'git') this.host.deps.onTurnFailed?.(this.repo.name, failure.kind);
    this.lastError = message;
    this.lastErrorKind = failureKind(failure);
    this.failures++;
  }

  protected succeeded(): void {
    this.failures = 0;
    this.lastError = undefined;
    this.lastErrorKind = undefined;
  }
}

export function woken(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}
