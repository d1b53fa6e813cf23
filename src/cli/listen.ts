// `run --listen`: the HTTP server beside the daemon, and the metrics it serves. Loaded only when asked
// for, so a daemon without it never loads the Prometheus client.

import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import { pinOf } from '../cycle/schedule.js';
import type { CycleDeps } from '../cycle/turn.js';
import { UsageError } from '../errors.js';
import type { ListenAddress } from '../http/address.js';
import { Metrics } from '../http/metrics.js';
import { startHttpServer } from '../http/server.js';
import type { Supervisor } from '../supervisor/supervisor.js';

export interface Listener {
  readonly url: string;
  /** The session's deps, with the metrics counting on the way. */
  readonly deps: CycleDeps;
  attach(supervisor: Supervisor): void;
  close(): Promise<void>;
}

export async function openListener(address: ListenAddress, deps: CycleDeps, config: ResolvedConfig): Promise<Listener> {
  const metrics = new Metrics(() => deps.clock.now());
  metrics.seed(
    config.repos.map((r) => r.name),
    deps.state,
  );
  let supervisor: Supervisor | undefined;
  const server = await startHttpServer(address, metrics, {
    repos: () => supervisor?.config.repos ?? [],
    // A paused or disabled repo is not checked on purpose: it does not hold readiness back.
    healthy: () => supervisor !== undefined && supervisor.snapshot().every((w) => w.checks > 0 || w.paused || w.phase === 'disabled'),
    checkNow: (name) => supervisor?.checkNow(name) ?? false,
    now: () => deps.clock.now().getTime(),
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot listen on ${address.host}:${address.port}: ${error.code ?? error.message}`);
  });
  return {
    url: server.url,
    deps: { ...deps, reporter: metrics.tee(deps.reporter), onCheck: metrics.onCheck, onTurnFailed: metrics.onTurnFailed, onQueueWait: metrics.onQueueWait },
    attach: (s) => {
      supervisor = s;
      const repos = (): Map<string, RepoConfig> => new Map(s.config.repos.map((r) => [r.name, r]));
      // The pin admit() applies: a config's `commit:`, or a rollback the config still allows.
      metrics.watchPins(() => {
        const configured = repos();
        return s.snapshot().map((w) => {
          const repo = configured.get(w.repo);
          const entry = deps.state.entry(w.repo);
          return [w.repo, repo === undefined ? entry?.pinned !== undefined : pinOf(repo, entry) !== undefined] as const;
        });
      });
    },
    close: () => server.close(),
  };
}
