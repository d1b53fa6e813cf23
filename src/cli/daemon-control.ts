// What the daemon answers on its control socket: status, trigger (and waiting for the run), pause,
// resume and cancel, each applied to the supervisor and, for pause and resume, recorded in the state.

import { elsewhere } from '../config/shard.js';
import type { ControlHandler } from '../control/server.js';
import type { ControlReply, DaemonInfo, StatusReport } from '../control/protocol.js';
import type { Activity } from '../runtime/activity.js';
import type { StateKeeper } from '../state/state-keeper.js';
import type { Supervisor, TriggerResult } from '../supervisor/supervisor.js';
import { buildStatus } from './status-report.js';

export interface DaemonParts {
  readonly supervisor: Supervisor;
  readonly activity: Activity;
  /** The daemon is shutting down: its running repos wait for their steps to end. */
  readonly stopping: () => boolean;
  readonly state: StateKeeper;
  readonly info: DaemonInfo;
}

/** What `status` answers with a daemon: the page's /api/status is the same. */
export function daemonStatus(parts: DaemonParts): StatusReport {
  const { supervisor, activity, state, info, stopping } = parts;
  const live = new Map(supervisor.snapshot().map((w) => [w.repo, w]));
  return buildStatus(
    supervisor.config,
    state.current,
    info,
    (name) => {
      const w = live.get(name);
      return (
        w && {
          phase: w.phase === 'running' && stopping() ? 'stopping' : w.phase,
          run: activity.run(name),
          step: activity.running(name),
          nextCheckAt: w.nextCheckAt,
          lastCheckError: w.lastCheckError,
          waitingFor: w.waitingFor,
          head: w.head,
        }
      );
    },
    [...live.keys()],
  );
}

export function daemonControl(parts: DaemonParts): ControlHandler {
  const { supervisor } = parts;
  const unknown = (names: readonly string[]): ControlReply | undefined => {
    const known = new Set(supervisor.config.repos.map((r) => r.name));
    // A glob's target counts only while the daemon follows it: a trigger for any other could never be answered.
    const missing = names.filter((n) => !supervisor.knows(n));
    // Said before "unknown": a client without GITWATCH_SHARD learns which instance to ask.
    const other = missing.map((n) => elsewhere(n, supervisor.config.shard)).find((why) => why !== undefined);
    if (other !== undefined) return { ok: false, error: other, usage: true };
    if (missing.length === 0 && names.length > 0) return undefined;
    const what = names.length === 0 ? 'no repo named' : `unknown repo${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')}`;
    return { ok: false, error: `${what} (configured: ${[...known].join(', ')})`, usage: true };
  };
  return async (request, reply) => {
    switch (request.op) {
      case 'status':
        return reply({ ok: true, status: daemonStatus(parts) });
      case 'trigger': {
        const bad = unknown(request.repos);
        if (bad) return reply(bad);
        const results = request.repos.map(
          (repo) =>
            new Promise<{ repo: string } & TriggerResult>((resolve) => supervisor.trigger(repo, request.wait ? (r) => resolve({ repo, ...r }) : undefined)),
        );
        reply({ ok: true, accepted: request.repos });
        if (request.wait) reply({ ok: true, finished: await Promise.all(results) });
        return;
      }
      case 'pause':
      case 'resume': {
        const bad = unknown(request.repos);
        if (bad) return reply(bad);
        for (const repo of request.repos) await supervisor.setPaused(repo, request.op === 'pause');
        return reply({ ok: true, accepted: request.repos });
      }
      case 'rollback': {
        const bad = unknown([request.repo]);
        if (bad) return reply(bad);
        let finished: (result: TriggerResult) => void = () => undefined;
        const ran = new Promise<TriggerResult>((resolve) => (finished = resolve));
        const chosen = await supervisor.rollback(request.repo, request.to, finished);
        if (!chosen.ok) return reply({ ok: false, error: chosen.error.message, usage: chosen.error.kind === 'usage' });
        reply({ ok: true, pinned: chosen.value });
        return reply({ ok: true, finished: [{ repo: request.repo, ...(await ran) }] });
      }
      case 'unpin': {
        const bad = unknown(request.repos);
        if (bad) return reply(bad);
        for (const repo of request.repos) await supervisor.unpin(repo);
        return reply({ ok: true, accepted: request.repos });
      }
      case 'cancel': {
        const bad = unknown([request.repo]);
        if (bad) return reply(bad);
        return reply({ ok: true, canceled: supervisor.cancel(request.repo) });
      }
    }
  };
}
