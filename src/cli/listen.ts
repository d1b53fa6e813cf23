// `run --listen`: the HTTP server beside the daemon, the metrics it serves and its status page. Loaded
// only when asked for, so a daemon without it never loads the Prometheus client.

import { parseTargetName } from '../config/targets.js';
import type { RepoConfig, ResolvedConfig } from '../config/types.js';
import type { ControlRequest } from '../control/protocol.js';
import { pinOf } from '../cycle/schedule.js';
import type { CycleDeps } from '../cycle/turn.js';
import { UsageError } from '../errors.js';
import type { ListenAddress } from '../http/address.js';
import { EventStream } from '../http/event-stream.js';
import { Metrics } from '../http/metrics.js';
import { scrubber, type Scrub } from '../http/redact.js';
import { startHttpServer } from '../http/server.js';
import type { PageAction, PageTarget } from '../http/status-page.js';
import { daemonControl, daemonStatus, type DaemonParts } from './daemon-control.js';
import { newestLogText } from './logs.js';
import { recentRuns } from './run-history.js';

export interface Listener {
  readonly url: string;
  /** The session's deps, with the metrics counting and the status page following on the way. */
  readonly deps: CycleDeps;
  attach(parts: DaemonParts): void;
  close(): Promise<void>;
}

export async function openListener(address: ListenAddress, deps: CycleDeps, config: ResolvedConfig): Promise<Listener> {
  const metrics = new Metrics(() => deps.clock.now());
  metrics.seed(
    config.repos.map((r) => r.name),
    deps.state,
    config.repos.filter((r) => r.verify !== undefined).map((r) => r.name),
  );
  let parts: DaemonParts | undefined;
  const current = (): ResolvedConfig => parts?.supervisor.config ?? config;
  const scrub = scrubOf(current, deps.env);
  const events = new EventStream(() => deps.clock.now(), scrub);
  const server = await startHttpServer(
    address,
    metrics,
    {
      repos: () => parts?.supervisor.config.repos ?? [],
      // A paused or disabled repo is not checked on purpose: it does not hold readiness back.
      healthy: () => parts !== undefined && parts.supervisor.snapshot().every((w) => w.checks > 0 || w.paused || w.phase === 'disabled'),
      checkNow: (name) => parts?.supervisor.checkNow(name) ?? false,
      now: () => deps.clock.now().getTime(),
    },
    { target: pageTarget(() => parts, current, scrub), events },
  ).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot listen on ${address.host}:${address.port}: ${error.code ?? error.message}`);
  });
  return {
    url: server.url,
    deps: {
      ...deps,
      reporter: events.tee(metrics.tee(deps.reporter)),
      onCheck: metrics.onCheck,
      onTurnFailed: metrics.onTurnFailed,
      onQueueWait: metrics.onQueueWait,
    },
    attach: (p) => {
      parts = p;
      // The pin admit() applies: a config's `commit:`, or a rollback the config still allows.
      metrics.watchPins(() => {
        const configured = new Map<string, RepoConfig>(p.supervisor.config.repos.map((r) => [r.name, r]));
        return p.supervisor.snapshot().map((w) => {
          const repo = configured.get(w.repo);
          const entry = deps.state.entry(w.repo);
          return [w.repo, repo === undefined ? entry?.pinned !== undefined : pinOf(repo, entry) !== undefined] as const;
        });
      });
    },
    close: () => server.close(),
  };
}

/** The page's view of the daemon: the control socket's status and actions, and what `logs` reads. */
function pageTarget(daemon: () => DaemonParts | undefined, current: () => ResolvedConfig, scrub: () => Scrub): PageTarget {
  const attached = (): DaemonParts => {
    const parts = daemon();
    if (parts === undefined) throw new Error('the daemon is starting');
    return parts;
  };
  return {
    status: () => Promise.resolve(daemonStatus(attached())),
    logs: async (name) => {
      const { state } = attached();
      const config = current();
      const known = config.repos.some((r) => r.name === name) || parseTargetName(config, name) !== undefined || state.current.repos[name] !== undefined;
      return known ? newestLogText(config.workdir, name, state.current.repos) : undefined;
    },
    runs: () => {
      const parts = attached();
      const names = daemonStatus(parts).repos.map((r) => r.name);
      return recentRuns(current().workdir, names, parts.state.current.repos, (name) => parts.activity.run(name) !== undefined);
    },
    act: async (name, action) => {
      const reply = await ask(daemonControl(attached()), request(name, action));
      return reply.ok;
    },
    token: () => current().listenToken,
    scrub,
  };
}

function request(name: string, action: PageAction): ControlRequest {
  if (action === 'cancel') return { op: 'cancel', repo: name };
  if (action === 'trigger') return { op: 'trigger', repos: [name], wait: false };
  return { op: action, repos: [name] };
}

/** The first answer of the control handler, as a control client would read it. */
async function ask(handler: ReturnType<typeof daemonControl>, req: ControlRequest): Promise<{ ok: boolean }> {
  let first: { ok: boolean } | undefined;
  await handler(req, (answer) => (first ??= answer), new AbortController().signal);
  return first ?? { ok: false };
}

/** Secrets are the config's secret variables' values and the token; built again only when the config changes. */
function scrubOf(current: () => ResolvedConfig, env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>): () => Scrub {
  let seen: ResolvedConfig | undefined;
  let scrub: Scrub = (text) => text;
  return () => {
    const config = current();
    if (config === seen) return scrub;
    seen = config;
    const vars = new Set(config.repos.flatMap((r) => r.secretVars));
    scrub = scrubber([...[...vars].map((name) => env[name]), config.listenToken]);
    return scrub;
  };
}
