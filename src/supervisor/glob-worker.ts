// A branch glob's worker: lists the remote's branches on the repo's interval (idle → checking → idle or
// backoff, held like a repo) and hands what it found to the supervisor, which runs a passive worker per
// target. `trigger REPO` on the glob runs every target found by the next listing.

import type { RepoConfig } from '../config/types.js';
import type { TurnEnd } from '../cycle/schedule.js';
import { discoverTargets } from '../cycle/targets.js';
import { describeFailure, toTurnFailure } from '../cycle/turn-failure.js';
import { Worker, type TriggerResult, type TriggerWaiter, type WorkerHost } from './worker.js';

export class GlobWorker extends Worker {
  readonly done: Promise<void>;

  constructor(repo: RepoConfig, host: WorkerHost) {
    super(repo, host);
    this.done = this.loop();
  }

  protected async turn(repo: RepoConfig): Promise<TurnEnd> {
    const { deps, limit } = this.host;
    let found: Awaited<ReturnType<typeof discoverTargets>>;
    try {
      found = await limit(() => discoverTargets(this.host.config(), repo, deps));
    } catch (error) {
      const failure = toTurnFailure(error);
      this.failed(failure);
      this.settleWaiters({ status: 'failed', error: describeFailure(failure) });
      return { kind: 'failed' };
    }
    this.checks++;
    if (!this.active) return { kind: 'aborted' };
    if (found.ok) {
      this.succeeded();
      const trigger = this.triggered ? collect(found.value.length, this.waiters.splice(0)) : undefined;
      this.triggered = false;
      this.host.reconcile(repo, found.value, trigger);
      return { kind: 'checked' };
    }
    if (found.error.kind === 'aborted') return { kind: 'aborted' };
    this.failed({ kind: 'git', error: found.error });
    this.settleWaiters({ status: 'check-failed', error: found.error.message });
    return { kind: 'failed' };
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
    const order: TriggerResult['status'][] = ['check-failed', 'unverified', 'failed', 'interrupted', 'skipped', 'succeeded'];
    const worst = [...results].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))[0] ?? result;
    for (const waiter of waiters) waiter(worst);
  };
}
