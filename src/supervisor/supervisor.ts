// The daemon's heart: one worker per repo, each on its own interval, sharing one pipeline queue.
//
//   idle ──(interval due, trigger, reload)──▶ checking ──(new commit)──▶ queued ──▶ running ──▶ idle
//     ▲                                          │
//     └──────(delay)── backoff ◀──(check failed)─┘
//
//   idle, backoff ──(pause)──▶ paused ──(resume, trigger)──▶ checking
//   idle, backoff, paused ──(enabled: false)──▶ disabled ──(enabled again, trigger)──▶ checking
//
// A failed run of a repo with `retry` shortens the wait before the next check to the retry's due time.
//
// A branch glob (`branch: release/*`) has a glob worker instead: on its interval it lists the remote's
// branches once, starts a passive worker per matching branch (`name@branch`), hands each its head, and stops
// the workers of branches that left. A passive worker checks only when handed a head or triggered.
//
// Stop (repo removed) or shutdown ends a worker from any state; a running pipeline finishes (removal) or
// is interrupted (shutdown). A pause lets a running pipeline finish; `cancel` stops it. Every phase change goes through TRANSITIONS, so a move the diagram does not
// allow is a bug caught where it happens. Time comes from the injected clock, so tests drive scheduling
// without waiting.

import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { COMPACT_AFTER_FETCHES, COMPACT_EVERY_MS, compactStore } from '../cycle/compact.js';
import { retryDueAt } from '../cycle/decide.js';
import { checkRepo, prepareRun, runPrepared, type CycleDeps, type Outcome } from '../cycle/turn.js';
import { ok, repoOfTarget, type Phase } from '../domain.js';
import type { RemoteHead } from '../git/client.js';
import { discoverTargets, type Target } from '../cycle/targets.js';
import { isBranchGlob } from '../config/targets.js';
import type { GitError } from '../errors.js';
import { limiter, type Limit } from '../runtime/limiter.js';
import { PipelineQueue, type Rank } from './pipeline-queue.js';

export type { Phase };

const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  idle: ['checking', 'paused', 'disabled', 'stopped'],
  checking: ['queued', 'idle', 'backoff', 'stopped'],
  queued: ['running', 'idle', 'backoff', 'stopped'],
  running: ['idle', 'backoff', 'stopped'],
  backoff: ['checking', 'paused', 'disabled', 'stopped'],
  paused: ['checking', 'disabled', 'stopped'],
  disabled: ['checking', 'paused', 'stopped'],
  stopped: [],
};

/** How a triggered run ended, for `trigger --wait`; `check-failed` when the remote could not be reached. */
export interface TriggerResult {
  readonly status: 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'check-failed';
  readonly error?: string | undefined;
}

type TriggerWaiter = (result: TriggerResult) => void;

export interface WorkerSnapshot {
  readonly repo: string;
  readonly phase: Phase;
  readonly nextCheckAt: Date | undefined;
  readonly failures: number;
  readonly checks: number;
  /** The message of the last failed check, until a check succeeds. */
  readonly lastCheckError: string | undefined;
  readonly paused: boolean;
}

export interface SupervisorDeps extends CycleDeps {
  /** 0 ≤ random() < 1, for jitter. */
  readonly random: () => number;
  /** Fetches after which a repo's git store is compacted (default COMPACT_AFTER_FETCHES). */
  readonly compactAfterFetches?: number;
}

/** Longest wait between checks of a remote that keeps failing. */
const MAX_BACKOFF_MS = 5 * 60_000;

export function backoffDelay(intervalMs: number, failures: number): number {
  return Math.min(intervalMs * 2 ** Math.min(failures, 20), longestBackoff(intervalMs));
}

function longestBackoff(intervalMs: number): number {
  return Math.max(intervalMs, MAX_BACKOFF_MS);
}

/** All a worker may ask of the supervisor. */
interface WorkerHost {
  readonly deps: SupervisorDeps;
  readonly limit: Limit;
  config(): ResolvedConfig;
  /** Paused in the state file: lasts across restarts and reloads. */
  isPaused(repo: string): boolean;
  /** Runs `task` when it is `repo`'s turn in the pipeline queue. */
  exclusive(repo: string, task: () => Promise<void>): Promise<void>;
  phaseChanged(): void;
  /** A glob worker's listing: start, update and stop its targets' workers. */
  reconcile(glob: RepoConfig, found: readonly Target[], trigger: TriggerWaiter | undefined): void;
}

/**
 * What every worker shares: its phase (changed only through TRANSITIONS), its wake signal, pause and
 * trigger, the waiters of `trigger --wait`, and how a failed check is reported and backed off.
 */
abstract class Worker {
  protected phase: Phase = 'idle';
  protected nextCheckAt: Date | undefined;
  protected failures = 0;
  protected checks = 0;
  protected lastError: string | undefined;
  protected stopped = false;
  protected wake = new AbortController();
  protected triggered = false;
  protected waiters: TriggerWaiter[] = [];
  protected paused: boolean;
  abstract readonly done: Promise<void>;

  constructor(
    protected repo: RepoConfig,
    protected readonly host: WorkerHost,
  ) {
    this.paused = host.isPaused(repo.name);
  }

  get name(): string {
    return this.repo.name;
  }

  /** New settings take effect from the next check, which starts at once. */
  update(repo: RepoConfig): void {
    this.repo = repo;
    this.poke();
  }

  /** Check now instead of waiting out the interval. */
  poke(trigger = false): void {
    this.triggered ||= trigger;
    this.wake.abort();
  }

  /** Runs the pipeline at the next check, new commit or not; `onRun` hears how that run ended. */
  trigger(onRun?: TriggerWaiter): void {
    if (onRun) this.waiters.push(onRun);
    this.poke(true);
  }

  /** Not checked until resumed; a running pipeline finishes. */
  pause(): void {
    this.paused = true;
    this.wake.abort();
  }

  resume(): void {
    this.paused = false;
    this.poke();
  }

  stop(): void {
    this.stopped = true;
    this.wake.abort();
    this.settleWaiters({ status: 'interrupted', error: 'the repo was removed from the config' });
  }

  snapshot(): WorkerSnapshot {
    return {
      repo: this.repo.name,
      phase: this.phase,
      nextCheckAt: this.nextCheckAt,
      failures: this.failures,
      checks: this.checks,
      lastCheckError: this.lastError,
      paused: this.paused,
    };
  }

  protected get active(): boolean {
    return !this.stopped && !this.host.deps.signal?.aborted;
  }

  protected set(phase: Phase): void {
    if (phase === this.phase) return;
    if (!TRANSITIONS[this.phase].includes(phase)) throw new Error(`worker ${this.repo.name}: no transition from ${this.phase} to ${phase}`);
    this.phase = phase;
    this.host.phaseChanged();
  }

  protected settleWaiters(result: TriggerResult): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(result);
  }

  /** One turn: a check and what it calls for. The delay until the next check, or undefined to wait until woken. */
  protected abstract turn(repo: RepoConfig): Promise<number | undefined>;

  /** What must end before the worker counts as stopped. */
  protected finishing(): Promise<void> {
    return Promise.resolve();
  }

  protected async loop(): Promise<void> {
    const { deps } = this.host;
    while (this.active) {
      // A wake that came before this point is spent here; an unspent signal is kept (one less object a check).
      if (this.wake.signal.aborted) this.wake = new AbortController();
      const held = this.heldBack();
      if (held !== undefined) {
        await held;
        continue;
      }
      this.nextCheckAt = undefined;
      this.set('checking');
      const delay = await this.turn(this.repo);
      if (!this.active) break;
      // Paused during the check or the run: back to waiting for resume, not for the interval.
      if (this.paused && !this.triggered) continue;
      this.nextCheckAt = delay === undefined ? undefined : new Date(deps.clock.now().getTime() + delay);
      this.set(this.failures > 0 ? 'backoff' : 'idle');
      // Shutdown aborts every worker's wake signal (see Supervisor), so one signal per sleep is enough.
      if (delay === undefined) await woken(this.wake.signal);
      else if (!this.wake.signal.aborted) await deps.clock.sleep(delay, this.wake.signal);
    }
    this.nextCheckAt = undefined;
    await this.finishing();
    this.set('stopped');
    this.settleWaiters({ status: 'interrupted', error: 'gitwatch is stopping' });
  }

  /**
   * Paused or disabled (and not triggered): the wait, on no clock, for resume, a reload that enables it, a
   * trigger, removal or shutdown; undefined when the worker may check. Not async: a worker that may check
   * reaches `checking` in the same turn, which tests that wait for every worker to settle rely on.
   */
  protected heldBack(): Promise<void> | undefined {
    const hold: Phase | undefined = this.paused && !this.triggered ? 'paused' : !this.repo.enabled && !this.triggered ? 'disabled' : undefined;
    if (hold === undefined) return undefined;
    this.nextCheckAt = undefined;
    this.set(hold);
    return woken(this.wake.signal);
  }

  /**
   * A failed check. A transient failure is reported each time and retried sooner than a permanent one,
   * which waits the longest backoff and is reported once until its message changes: a wrong password
   * does not fix itself, and a log line a minute about it helps nobody.
   */
  protected failed(repo: RepoConfig, error: Pick<GitError, 'message' | 'kind' | 'permanent'>): number {
    const repeated = error.permanent && error.message === this.lastError;
    if (!repeated) this.host.deps.reporter.emit({ type: 'check-failed', repo: repo.name, error: error.message, kind: error.kind });
    this.lastError = error.message;
    this.failures++;
    return error.permanent ? longestBackoff(repo.intervalMs) : backoffDelay(repo.intervalMs, this.failures);
  }

  protected succeeded(): void {
    this.failures = 0;
    this.lastError = undefined;
  }

  /** Up to 10% later than the interval, so many repos do not fire at once. */
  protected jittered(intervalMs: number): number {
    return Math.round(intervalMs * (1 + 0.1 * this.host.deps.random()));
  }
}

class RepoWorker extends Worker {
  /** Aborts the pipeline running now (`gitwatch cancel`). */
  private cancelRun: AbortController | undefined;
  private fetches = 0;
  private lastCompaction: number;
  /** A compaction of this repo's store; the next fetch waits for it. */
  private compaction: Promise<void> = Promise.resolve();
  /** A head a glob worker found: the next iteration uses it instead of asking the remote again. */
  private offered: RemoteHead | undefined;
  readonly done: Promise<void>;

  constructor(
    repo: RepoConfig,
    host: WorkerHost,
    /** A removed worker of the same name that is still finishing: two workers never share a checkout. */
    predecessor: Promise<void> = Promise.resolve(),
    /** A branch glob's target: no interval of its own; it waits for `offer` or a trigger. */
    private readonly passive = false,
  ) {
    super(repo, host);
    this.lastCompaction = host.deps.clock.now().getTime();
    this.done = predecessor.then(() => this.loop());
  }

  /** The head its glob worker found; counts as a check. */
  offer(head: RemoteHead): void {
    this.offered = head;
    this.checks++;
    this.wake.abort();
  }

  /** Stops the running pipeline; false when none runs. */
  cancel(): boolean {
    if (this.cancelRun === undefined || this.cancelRun.signal.aborted) return false;
    this.cancelRun.abort();
    return true;
  }

  protected async turn(repo: RepoConfig): Promise<number | undefined> {
    let delay: number;
    try {
      delay = await this.iteration(repo);
    } catch (error) {
      // A local failure (disk full, a checkout path that is a file) fails this repo's turn, never the daemon.
      delay = this.failed(repo, { message: (error as Error).message, kind: 'other', permanent: false });
    }
    // A glob's target has no interval of its own: its glob worker wakes it.
    return this.passive ? undefined : delay;
  }

  protected override finishing(): Promise<void> {
    return this.compaction;
  }

  /** One check, and the run it calls for; returns the delay until the next check. */
  private async iteration(repo: RepoConfig): Promise<number> {
    const { deps, limit } = this.host;
    const offered = this.offered;
    this.offered = undefined;
    const check = offered !== undefined ? ok(offered) : await limit(() => checkRepo(this.host.config(), repo, deps));
    if (offered === undefined) this.checks++;
    if (!check.ok) {
      if (check.error.kind === 'aborted') return 0;
      // A trigger stays pending until the remote answers; whoever waits for it hears why it has not run.
      this.settleWaiters({ status: 'check-failed', error: check.error.message });
      return this.failed(repo, check.error);
    }
    const trigger = this.triggered;
    const waiters = this.waiters;
    this.triggered = false;
    this.waiters = [];
    const quiet = { ...deps, reportIdle: this.checks === 1 };
    // Fetch and checkout happen here, outside the queue, so a slow fetch never holds up another repo's pipeline.
    await this.compaction;
    const prepared = this.active ? await limit(() => prepareRun(this.host.config(), repo, check.value, quiet, trigger)) : undefined;
    if (prepared?.kind === 'ready') this.fetches++;
    if (prepared?.kind === 'done' && prepared.error) {
      // A trigger whose fetch failed still runs when the remote answers again.
      this.triggered ||= trigger;
      for (const waiter of waiters) waiter({ status: 'check-failed', error: prepared.error.message });
      return this.failed(repo, prepared.error);
    }
    this.succeeded();
    let result: TriggerResult = { status: 'interrupted', error: 'gitwatch is stopping' };
    let outcome: Outcome | undefined;
    if (prepared?.kind === 'ready' && this.active) {
      this.set('queued');
      await this.host.exclusive(repo.name, async () => {
        // The repo may have been removed, or the daemon stopped, while it waited its turn.
        if (!this.active) return;
        this.set('running');
        this.cancelRun = new AbortController();
        try {
          outcome = await runPrepared(this.host.config(), repo, prepared, quiet, this.cancelRun.signal);
          const lastRun = deps.state.entry(repo.name)?.lastRun;
          result =
            outcome === 'state-failed'
              ? { status: 'failed', error: 'the result could not be recorded' }
              : { status: outcome === 'succeeded' || outcome === 'skipped' || outcome === 'interrupted' ? outcome : 'failed', error: lastRun?.error };
        } finally {
          this.cancelRun = undefined;
        }
      });
    }
    for (const waiter of waiters) waiter(result);
    this.compactWhenDue(repo);
    // An unrecorded run (the reporter has said why) runs again, but with backoff, not on every interval.
    if (outcome === 'state-failed') return backoffDelay(repo.intervalMs, ++this.failures);
    return this.untilRetry(repo, this.jittered(repo.intervalMs));
  }

  /** `delay`, or less when a retry of a failed run falls due sooner: the retry starts with a check, so a newer commit wins. */
  private untilRetry(repo: RepoConfig, delay: number): number {
    const due = retryDueAt(repo, this.host.deps.state.entry(repo.name));
    return due === undefined ? delay : Math.max(0, Math.min(delay, due - this.host.deps.clock.now().getTime()));
  }

  /**
   * Compacts the store after enough fetches, or daily, in the background: the worker goes on to its next
   * sleep and other repos' pipelines run meanwhile; only this repo's next fetch waits for it.
   */
  private compactWhenDue(repo: RepoConfig): void {
    const { deps, limit } = this.host;
    const now = deps.clock.now().getTime();
    const due = this.fetches >= (deps.compactAfterFetches ?? COMPACT_AFTER_FETCHES) || (this.fetches > 0 && now - this.lastCompaction >= COMPACT_EVERY_MS);
    if (!due || !this.active) return;
    this.fetches = 0;
    this.lastCompaction = now;
    const config = this.host.config();
    this.compaction = limit(() => compactStore(config, repo, deps));
  }
}

/**
 * A branch glob's worker: lists the remote's branches on the repo's interval (idle → checking → idle or
 * backoff, paused like a repo) and hands what it found to the supervisor, which runs a passive worker per target.
 * `trigger REPO` on the glob runs every target at the next listing.
 */
class GlobWorker extends Worker {
  readonly done: Promise<void>;

  constructor(repo: RepoConfig, host: WorkerHost) {
    super(repo, host);
    this.done = this.loop();
  }

  protected async turn(repo: RepoConfig): Promise<number> {
    const { deps, limit } = this.host;
    const found = await limit(() => discoverTargets(this.host.config(), repo, deps)).catch(
      (error: unknown) => ({ ok: false, error: { message: (error as Error).message, kind: 'other', permanent: false } }) as const,
    );
    this.checks++;
    const delay = this.jittered(repo.intervalMs);
    if (!this.active) return delay;
    if (found.ok) {
      this.succeeded();
      const trigger = this.triggered ? collect(found.value.length, this.waiters.splice(0)) : undefined;
      this.triggered = false;
      this.host.reconcile(repo, found.value, trigger);
      return delay;
    }
    if (found.error.kind === 'aborted') return delay;
    const backoff = this.failed(repo, found.error);
    this.settleWaiters({ status: 'check-failed', error: found.error.message });
    return backoff;
  }
}

/** One waiter for `count` targets' runs: it hears the worst of them once all have ended. */
function collect(count: number, waiters: readonly TriggerWaiter[]): TriggerWaiter | undefined {
  if (waiters.length === 0) return undefined;
  if (count === 0) {
    for (const waiter of waiters) waiter({ status: 'check-failed', error: 'no branch matches the pattern' });
    return undefined;
  }
  const results: TriggerResult[] = [];
  return (result) => {
    results.push(result);
    if (results.length < count) return;
    const order: TriggerResult['status'][] = ['check-failed', 'failed', 'interrupted', 'skipped', 'succeeded'];
    const worst = [...results].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))[0] ?? result;
    for (const waiter of waiters) waiter(worst);
  };
}

function woken(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

export class Supervisor {
  private readonly queue = new PipelineQueue();
  /** Plain repos' workers and branch glob targets' workers, by name (`site`, `site@release/1.0`). */
  private readonly workers = new Map<string, RepoWorker>();
  /** Branch glob repos' workers, by repo name. */
  private readonly globs = new Map<string, GlobWorker>();
  private readonly retired = new Map<string, Promise<void>>();
  private listeners: (() => void)[] = [];
  private current: ResolvedConfig;
  private readonly host: WorkerHost;

  constructor(
    config: ResolvedConfig,
    readonly deps: SupervisorDeps,
  ) {
    this.current = config;
    // Checks and fetches across all workers: a thousand repos starting at once do not start a thousand gits.
    const limit = limiter(deps.concurrency);
    this.host = {
      deps,
      limit,
      config: () => this.current,
      // Pausing a branch glob pauses its targets.
      isPaused: (repo) => deps.state.entry(repo)?.paused === true || deps.state.entry(repoOfTarget(repo))?.paused === true,
      exclusive: (repo, task) => this.queue.exclusive(this.rank(repo), task),
      phaseChanged: () => this.changed(),
      reconcile: (glob, found, trigger) => this.reconcile(glob, found, trigger),
    };
    for (const repo of config.repos) this.start(repo);
    deps.signal?.addEventListener(
      'abort',
      () => {
        for (const worker of this.workers.values()) worker.poke();
        for (const glob of this.globs.values()) glob.poke();
      },
      { once: true },
    );
  }

  get config(): ResolvedConfig {
    return this.current;
  }

  private start(repo: RepoConfig): void {
    if (isBranchGlob(repo)) this.globs.set(repo.name, new GlobWorker(repo, this.host));
    else this.workers.set(repo.name, new RepoWorker(repo, this.host, this.retired.get(repo.name)));
  }

  /** Pipelines that wait run in config order, a glob's targets by branch name. */
  private rank(name: string): Rank {
    const repo = repoOfTarget(name);
    const i = this.current.repos.findIndex((r) => r.name === repo);
    return [i === -1 ? Number.MAX_SAFE_INTEGER : i, name === repo ? '' : name.slice(repo.length + 1)];
  }

  /** The workers of a glob's targets. */
  private targetsOf(repo: string): RepoWorker[] {
    return [...this.workers.values()].filter((w) => w.name !== repo && repoOfTarget(w.name) === repo);
  }

  private retire(worker: RepoWorker): void {
    this.workers.delete(worker.name);
    worker.stop();
    this.retired.set(worker.name, worker.done);
  }

  /** A glob's listing: new branches get a worker, known ones their new settings, gone ones stop; each is handed its head. */
  private reconcile(glob: RepoConfig, found: readonly Target[], trigger: TriggerWaiter | undefined): void {
    if (this.globs.get(glob.name) === undefined) return;
    const names = new Set(found.map((t) => t.repo.name));
    for (const worker of this.targetsOf(glob.name)) if (!names.has(worker.name)) this.retire(worker);
    for (const { repo, head } of found) {
      let worker = this.workers.get(repo.name);
      if (worker === undefined) {
        worker = new RepoWorker(repo, this.host, this.retired.get(repo.name), true);
        this.workers.set(repo.name, worker);
      } else worker.update(repo);
      if (trigger !== undefined) worker.trigger(trigger);
      worker.offer(head);
    }
    this.changed();
  }

  /** Applies a new config per repo: added repos start, removed ones stop, changed ones check at once with their new settings. */
  apply(next: ResolvedConfig): { added: string[]; removed: string[]; changed: string[] } {
    const before = new Map(this.current.repos.map((r) => [r.name, r]));
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    this.current = next;
    for (const repo of next.repos) {
      const old = before.get(repo.name);
      const worker = this.workers.get(repo.name);
      const glob = this.globs.get(repo.name);
      if (old === undefined || (worker === undefined && glob === undefined)) {
        added.push(repo.name);
        this.start(repo);
      } else if (JSON.stringify(old) !== JSON.stringify(repo)) {
        changed.push(repo.name);
        if (isBranchGlob(repo) !== isBranchGlob(old)) {
          // From one branch to a glob or back: the old workers stop, the new kind starts.
          this.stopRepo(repo.name);
          this.start(repo);
        } else if (glob !== undefined) glob.update(repo);
        else worker?.update(repo);
      }
    }
    for (const name of before.keys()) {
      if (next.repos.some((r) => r.name === name)) continue;
      removed.push(name);
      this.stopRepo(name);
    }
    this.changed();
    return { added, removed, changed };
  }

  /** Stops a repo's worker, or a glob's worker and its targets'. */
  private stopRepo(name: string): void {
    const worker = this.workers.get(name);
    if (worker) this.retire(worker);
    const glob = this.globs.get(name);
    if (glob) {
      this.globs.delete(name);
      glob.stop();
      for (const target of this.targetsOf(name)) this.retire(target);
      this.retired.set(name, glob.done);
    }
  }

  /** Runs the repo's pipeline next, new commit or not (a glob: every target's); `onRun` hears how that run ended. False for an unknown repo. */
  trigger(name: string, onRun?: (result: TriggerResult) => void): boolean {
    const worker = this.workers.get(name);
    const glob = this.globs.get(name);
    worker?.trigger(onRun);
    glob?.trigger(onRun);
    return worker !== undefined || glob !== undefined;
  }

  /** Stops checking the repo (the caller records it in the state); a glob's targets too. */
  pause(name: string): boolean {
    const worker = this.workers.get(name);
    const glob = this.globs.get(name);
    worker?.pause();
    glob?.pause();
    if (glob) for (const target of this.targetsOf(name)) target.pause();
    return worker !== undefined || glob !== undefined;
  }

  /** Checks the repo again, at once. */
  resume(name: string): boolean {
    const worker = this.workers.get(name);
    const glob = this.globs.get(name);
    worker?.resume();
    if (glob) for (const target of this.targetsOf(name)) if (!this.host.isPaused(target.name)) target.resume();
    glob?.resume();
    return worker !== undefined || glob !== undefined;
  }

  /** Stops the repo's running pipeline (a glob: whichever of its targets runs); false when none runs. */
  cancel(name: string): boolean {
    const worker = this.workers.get(name);
    if (worker !== undefined) return worker.cancel();
    return this.targetsOf(name).some((target) => target.cancel());
  }

  /** Checks the repo at once (a push webhook); runs only if the check finds something to run. */
  checkNow(name: string): boolean {
    const worker = this.workers.get(name);
    const glob = this.globs.get(name);
    worker?.poke();
    glob?.poke();
    return worker !== undefined || glob !== undefined;
  }

  snapshot(): WorkerSnapshot[] {
    return [...[...this.workers.values()].map((w) => w.snapshot()), ...[...this.globs.values()].map((g) => g.snapshot())];
  }

  private changed(): void {
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
    await Promise.all([...[...this.workers.values()].map((w) => w.done), ...[...this.globs.values()].map((g) => g.done), ...this.retired.values()]);
  }
}
