// The daemon's registry of workers: one per repo (worker.ts, repo-worker.ts), one per branch glob
// (glob-worker.ts) with a passive worker per target it found, and the pipeline queue they share. It
// applies reloads per repo, routes operator actions (trigger, pause, resume, cancel, a webhook's check)
// to the right workers, and knows which names it follows now.

import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import type { Target } from '../cycle/targets.js';
import { isBranchGlob } from '../config/targets.js';
import { limiter } from '../runtime/limiter.js';
import type { RepoState } from '../state/state-file.js';
import { GlobWorker } from './glob-worker.js';
import { PipelineQueue, type Rank } from '../runtime/pipeline-queue.js';
import { RepoWorker } from './repo-worker.js';
import { chooseRollback, rollbackPin, type RollbackRefusal } from '../cycle/rollback.js';
import { withoutPin } from '../cycle/pins.js';
import { describeFailure, toTurnFailure } from '../cycle/turn-failure.js';
import { err, repoOfTarget, type Result } from '../domain.js';
import type { SupervisorDeps, TriggerResult, TriggerWaiter, WorkerHost, WorkerSnapshot } from './worker.js';

export { backoffDelay } from '../cycle/schedule.js';
export { TRANSITIONS, type SupervisorDeps, type TriggerResult, type WorkerSnapshot } from './worker.js';
export type { Phase } from '../domain.js';

/** The entry with `paused` set or removed; the rest as it was. */
export function withPaused<T extends { readonly paused?: true }>(entry: T | undefined, paused: boolean): T {
  const { paused: _was, ...rest } = entry ?? ({} as T);
  return (paused ? { ...rest, paused: true } : rest) as T;
}

export class Supervisor {
  private readonly queue: PipelineQueue;
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
    this.queue = new PipelineQueue(config.pipelines);
    // Checks and fetches across all workers: a thousand repos starting at once do not start a thousand gits.
    const limit = limiter(deps.concurrency);
    this.host = {
      deps,
      limit,
      config: () => this.current,
      exclusive: (repo, task, queued) => this.queue.exclusive({ name: repo.name, rank: this.rank(repo.name), group: repo.group }, task, queued),
      waitingFor: (name) => this.queue.waitingFor(name),
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
    this.queue.resize(next.pipelines);
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
      } else {
        // A reload may be the fix (or come with it): a repo whose last turn failed is checked at once.
        if (worker?.failing === true) worker.poke();
        if (glob?.failing === true) glob.poke();
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

  /**
   * Pauses or resumes the repo: recorded in the lock first (it lasts across restarts, and it is what every
   * worker's admission reads), then its workers are woken to take it up. Pausing a branch glob holds its
   * targets; resuming it leaves a target that was paused on its own paused. A running pipeline finishes.
   */
  async setPaused(name: string, paused: boolean): Promise<boolean> {
    if (!this.knows(name)) return false;
    await this.deps.state.update(name, (entry: RepoState | undefined) => withPaused(entry, paused));
    this.workers.get(name)?.poke();
    this.globs.get(name)?.poke();
    for (const target of this.targetsOf(name)) target.poke();
    return true;
  }

  /**
   * Rolls the repo back: chooses the commit (cycle/rollback.ts), records the pin in the lock (it lasts
   * across restarts and reloads), then triggers the repo, whose turn runs the pinned commit. `onRun` hears
   * how that run ended. A pipeline running now finishes first.
   */
  async rollback(name: string, to: string | undefined, onRun?: (result: TriggerResult) => void): Promise<Result<string, RollbackRefusal>> {
    const worker = this.workers.get(name);
    if (worker === undefined) {
      const glob = this.globs.get(name);
      const message = glob === undefined ? `unknown repo '${name}'` : `${name} follows a branch glob: roll back one of its targets (${name}@<branch>)`;
      return err({ kind: 'usage', message });
    }
    const { state, clock } = this.deps;
    // A bug in the choice is this request's failure, as a turn's would be; it never reaches the daemon.
    const chosen = await chooseRollback(this.current, worker.settings, state.entry(name), to, this.deps).catch(
      (error: unknown): Result<string, RollbackRefusal> => err({ kind: 'check', message: describeFailure(toTurnFailure(error)) }),
    );
    if (!chosen.ok) return chosen;
    await state.update(name, (entry) => ({ ...entry, pinned: rollbackPin(worker.settings, chosen.value, clock.now()) }));
    worker.trigger(onRun);
    return chosen;
  }

  /** Follows the repo's ref again from its next check, which starts at once. False when it was not pinned. */
  async unpin(name: string): Promise<boolean> {
    if (this.deps.state.entry(name)?.pinned === undefined) return false;
    await this.deps.state.update(name, withoutPin);
    this.workers.get(name)?.poke();
    return true;
  }

  /** A configured repo, or a branch glob's target the daemon follows now. */
  knows(name: string): boolean {
    return this.workers.has(name) || this.globs.has(name);
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
