// A repo's worker (or a branch glob target's): check, fetch and check out outside the pipeline queue, then
// run the pipeline when it is this repo's turn. Its turn converts every failure once, at its end (see
// cycle/turn-failure.ts), so what reaches the loop is how the turn ended, never an exception.

import type { RepoConfig } from '../config/types.js';
import { COMPACT_AFTER_FETCHES, COMPACT_EVERY_MS, compactStore } from '../cycle/compact.js';
import type { TurnEnd } from '../cycle/schedule.js';
import { describeFailure, toTurnFailure } from '../cycle/turn-failure.js';
import { checkRepo, prepareRun, runPrepared, type CycleDeps, type Outcome, type Prepared } from '../cycle/turn.js';
import { ok } from '../domain.js';
import type { RemoteHead } from '../git/client.js';
import { Worker, type TriggerResult, type TriggerWaiter, type WorkerHost } from './worker.js';

const STOPPING: TriggerResult = { status: 'interrupted', error: 'gitwatch is stopping' };

export class RepoWorker extends Worker {
  /** Aborts the pipeline running now (`gitwatch cancel`). */
  private cancelRun: AbortController | undefined;
  private fetches = 0;
  private lastCompaction: number;
  /** A compaction of this repo's store; the next fetch waits for it. */
  private compaction: Promise<void> = Promise.resolve();
  /** A head a glob worker found: the next turn uses it instead of asking the remote again. */
  private offered: RemoteHead | undefined;
  readonly done: Promise<void>;

  constructor(
    repo: RepoConfig,
    host: WorkerHost,
    /** A removed worker of the same name that is still finishing: two workers never share a checkout. */
    predecessor: Promise<void> = Promise.resolve(),
    /** A branch glob's target: no interval of its own; it waits for `offer` or a trigger. */
    passive = false,
  ) {
    super(repo, host);
    this.passive = passive;
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

  protected override finishing(): Promise<void> {
    return this.compaction;
  }

  protected async turn(repo: RepoConfig): Promise<TurnEnd> {
    // Taken now: a trigger that comes during this turn is for the next one.
    const waiters = this.waiters;
    this.waiters = [];
    let answer: TriggerResult = STOPPING;
    try {
      const end = await this.iteration(repo, (result) => (answer = result));
      for (const waiter of waiters) waiter(answer);
      return end;
    } catch (error) {
      const failure = toTurnFailure(error);
      this.failed(failure);
      for (const waiter of waiters) waiter({ status: failure.kind === 'git' ? 'check-failed' : 'failed', error: describeFailure(failure) });
      return { kind: 'failed' };
    }
  }

  /** One check, and the run it calls for. `answer` records what a waiting `trigger --wait` hears. */
  private async iteration(repo: RepoConfig, answer: (result: TriggerResult) => void): Promise<TurnEnd> {
    const { deps, limit } = this.host;
    const offered = this.offered;
    this.offered = undefined;
    let check: Awaited<ReturnType<typeof checkRepo>> = ok(offered as RemoteHead);
    if (offered === undefined) {
      try {
        check = await limit(() => checkRepo(this.host.config(), repo, deps));
      } finally {
        // A check that ended in a bug was a check too: whoever counts them must see it.
        this.checks++;
      }
    }
    if (!check.ok) {
      if (check.error.kind === 'aborted') return { kind: 'aborted' };
      // A trigger stays pending until the remote answers; whoever waits for it hears why it has not run.
      answer({ status: 'check-failed', error: check.error.message });
      this.failed({ kind: 'git', error: check.error });
      return { kind: 'failed' };
    }
    this.head = check.value.sha;
    const trigger = this.triggered;
    this.triggered = false;
    // Only a worker's first check says "up to date"; later idle checks print nothing.
    const turnDeps = { ...deps, reportIdle: this.checks === 1 };
    // Fetch and checkout happen here, outside the queue, so a slow fetch never holds up another repo's pipeline.
    await this.compaction;
    if (!this.active) return { kind: 'aborted' };
    const prepared = await limit(() => prepareRun(this.host.config(), repo, check.value, turnDeps, trigger));
    if (prepared.kind === 'done' && prepared.error) {
      // A trigger whose fetch failed still runs when the remote answers again.
      this.triggered ||= trigger;
      answer({ status: 'check-failed', error: prepared.error.message });
      this.failed({ kind: 'git', error: prepared.error });
      return { kind: 'failed' };
    }
    this.succeeded();
    if (prepared.kind === 'done') {
      // A trigger of a head `verify:` refuses runs nothing either: whoever waits hears why.
      if (prepared.outcome === 'unverified') answer({ status: 'unverified', error: prepared.refusal });
      return prepared.outcome === 'interrupted' ? { kind: 'aborted' } : { kind: 'checked' };
    }
    this.fetches++;
    const outcome = await this.runWhenItsTurn(repo, prepared, trigger, turnDeps);
    if (outcome !== undefined) answer(triggerResult(outcome, deps.state.entry(repo.name)?.lastRun?.error));
    this.compactWhenDue(repo);
    // An unrecorded run (the reporter has said why) runs again, with backoff, not on every interval.
    if (outcome === 'state-failed') {
      this.failures++;
      return { kind: 'unrecorded' };
    }
    return { kind: 'checked' };
  }

  /**
   * Waits for the repo's turn in the pipeline queue and runs it, unless the repo was removed, the daemon
   * stops, or it was paused or disabled meanwhile (and the run was not triggered): then nothing runs, and
   * the lock stays where it was, so the commit runs once the repo is resumed.
   */
  private async runWhenItsTurn(
    repo: RepoConfig,
    prepared: Extract<Prepared, { kind: 'ready' }>,
    trigger: boolean,
    deps: CycleDeps,
  ): Promise<Outcome | undefined> {
    let outcome: Outcome | undefined;
    this.set('queued');
    const queuedAt = deps.clock.now().getTime();
    const queued = (why: string): void => deps.reporter.emit({ type: 'run-queued', repo: repo.name, commit: prepared.head.sha, waitingFor: why });
    await this.host.exclusive(
      repo,
      async () => {
        if (!this.active) return;
        const admission = this.admission(trigger);
        if (!admission.admitted) {
          // Said, so that whoever shows it queued (the terminal's live view) knows it will not run.
          deps.reporter.emit({ type: admission.hold, repo: repo.name });
          return;
        }
        // Pinned while it waited (a rollback): the head it was prepared for must not run; the rollback's turn is next.
        if (admission.pin !== undefined && admission.pin.commit !== prepared.head.sha) return;
        this.host.deps.onQueueWait?.(repo.name, deps.clock.now().getTime() - queuedAt);
        this.set('running');
        this.cancelRun = new AbortController();
        try {
          outcome = await runPrepared(this.host.config(), repo, prepared, deps, this.cancelRun.signal);
        } finally {
          this.cancelRun = undefined;
        }
      },
      queued,
    );
    return outcome;
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
    // A compaction that fails is said by compactStore; it must never reject into nobody's hands.
    this.compaction = limit(() => compactStore(config, repo, deps)).catch(() => undefined);
  }
}

/** A run's outcome as `trigger --wait` reports it. */
function triggerResult(outcome: Outcome, error: string | undefined): TriggerResult {
  switch (outcome) {
    case 'succeeded':
    case 'skipped':
    case 'interrupted':
      return { status: outcome, error };
    case 'state-failed':
      return { status: 'failed', error: 'the result could not be recorded' };
    default:
      return { status: 'failed', error };
  }
}

export type { TriggerWaiter };
