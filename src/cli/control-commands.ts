// `trigger`, `pause`, `resume`, `cancel`, `rollback` and `unpin`: through the daemon's control socket when a daemon runs on
// this state, and on the state file alone (holding its lock) when none does. Reaching a daemon needs only
// the state path, so a config file with a typo, or a shell without the repos' `${VAR}`s, cannot keep an
// operator from cancelling a runaway pipeline: the daemon runs the config it accepted and judges the names.

import { loadConfig } from '../config/load.js';
import { locateConfig, locatePaths } from '../config/locate.js';
import { narrowToShard } from '../config/shard.js';
import type { ResolvedConfig } from '../config/types.js';
import { askDaemon, daemonError, firstReply, type Connection } from '../control/client.js';
import type { ControlRequest } from '../control/protocol.js';
import { runCycle } from '../cycle/cycle.js';
import { chooseRollback, rollbackPin } from '../cycle/rollback.js';
import { withoutPin } from '../cycle/pins.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { acquireInstanceLock } from '../state/instance-lock.js';
import { StateKeeper } from '../state/state-keeper.js';
import { refuseOtherShards, selectRepos } from './config-input.js';
import type { CommandContext } from './context.js';
import { withPaused } from '../supervisor/supervisor.js';
import { onceExitCode } from './once.js';
import { withStateSession } from './session.js';

type Reached = { readonly daemon: Extract<Connection, { daemon: true }> } | { readonly daemon: undefined; readonly config: ResolvedConfig };

/**
 * A change the daemon made when it was asked (its answer checked), or, with no daemon, made here to the
 * state file under its instance lock.
 */
async function applied(reached: Reached, ctx: CommandContext, change: (state: StateKeeper) => Promise<void>): Promise<void> {
  if (reached.daemon !== undefined) {
    const reply = await firstReply(reached.daemon);
    if (!reply.ok) throw daemonError(reply);
    return;
  }
  const { statePath } = reached.config;
  const lock = await acquireInstanceLock(statePath, ctx.processes);
  try {
    await change(await StateKeeper.open(statePath, ctx.processes.pid));
  } finally {
    await lock.release();
  }
}

/**
 * The daemon on this config's state, asked `request`; or, when none runs, the config, validated, with the
 * names checked against it (the command then works on the state file alone).
 */
async function reach(ctx: CommandContext, names: readonly string[], request: ControlRequest): Promise<Reached> {
  if (names.length === 0) throw new UsageError('name at least one repo');
  refuseOtherShards(names, ctx.global.shard);
  const location = locateConfig(ctx.global.config, ctx.cwd, ctx.env);
  const { statePath } = await locatePaths(location, ctx.env);
  if (statePath !== undefined) {
    const connection = await askDaemon(statePath, request, ctx.uid, ctx.signal, ctx.processes);
    if (connection.daemon) return { daemon: connection };
  }
  const config = narrowToShard((await loadConfig(location, ctx.env)).config, ctx.global.shard);
  selectRepos(config, names);
  // Found leniently, the path can only differ when it needed a variable: ask where the config says.
  if (config.statePath !== statePath) {
    const connection = await askDaemon(config.statePath, request, ctx.uid, ctx.signal, ctx.processes);
    if (connection.daemon) return { daemon: connection };
  }
  return { daemon: undefined, config };
}

export async function triggerCommand(names: readonly string[], options: { wait: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const reached = await reach(ctx, names, { op: 'trigger', repos: names, wait: options.wait });
  if (reached.daemon === undefined) {
    // No daemon: run it here, like `once REPO` but new commit or not.
    const { config } = reached;
    selectRepos(config, names);
    return withStateSession(ctx, config, async (deps) =>
      onceExitCode(await runCycle(config, selectRepos(config, names, deps.state.current.repos), deps, new Set(names))),
    );
  }
  let accepted = false;
  for await (const reply of reached.daemon.replies) {
    if (!reply.ok) throw daemonError(reply);
    if ('accepted' in reply) {
      accepted = true;
      if (!ctx.global.quiet) ctx.stderr.write(`gitwatch: triggered ${reply.accepted.join(', ')}${options.wait ? '; waiting for the run' : ''}\n`);
      if (!options.wait) return EXIT.ok;
    }
    if ('finished' in reply) {
      for (const run of reply.finished) ctx.stdout.write(`${run.repo} ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
      return reply.finished.every((r) => r.status === 'succeeded' || r.status === 'skipped') ? EXIT.ok : EXIT.failed;
    }
  }
  if (ctx.signal.aborted) return EXIT.failed;
  throw new Error(accepted ? 'the daemon stopped before the run ended' : 'the daemon closed the connection without an answer');
}

export async function pauseCommand(names: readonly string[], pause: boolean, ctx: CommandContext): Promise<ExitCode> {
  const reached = await reach(ctx, names, { op: pause ? 'pause' : 'resume', repos: names });
  await applied(reached, ctx, async (state) => {
    for (const name of names) await state.update(name, (entry) => withPaused(entry, pause));
  });
  if (!ctx.global.quiet) ctx.stdout.write(`${names.join(', ')}: ${pause ? 'paused (a running pipeline finishes)' : 'resumed'}\n`);
  return EXIT.ok;
}

/**
 * Rolls REPO back and pins it there, then waits for that run: exit 0 when it succeeded, 1 when it failed
 * (the repo stays pinned at the failed commit), 2 when there is nothing to roll back to or `--to` is not in
 * the followed ref's history.
 */
export async function rollbackCommand(name: string, options: { to: string | undefined }, ctx: CommandContext): Promise<ExitCode> {
  const reached = await reach(ctx, [name], { op: 'rollback', repo: name, to: options.to });
  const said = (commit: string): void => {
    if (!ctx.global.quiet) ctx.stderr.write(`gitwatch: ${name}: rolling back to ${commit} and pinning it there; waiting for the run\n`);
  };
  if (reached.daemon === undefined) {
    const { config } = reached;
    return withStateSession(ctx, config, async (deps) => {
      const [repo] = selectRepos(config, [name], deps.state.current.repos);
      if (repo === undefined) throw new UsageError(`unknown repo '${name}'`);
      const chosen = await chooseRollback(config, repo, deps.state.entry(name), options.to, deps);
      if (!chosen.ok) {
        if (chosen.error.kind === 'usage') throw new UsageError(chosen.error.message);
        ctx.stderr.write(`gitwatch: ${name}: ${chosen.error.message}\n`);
        return EXIT.failed;
      }
      await deps.state.update(name, (entry) => ({ ...entry, pinned: rollbackPin(repo, chosen.value, ctx.clock.now()) }));
      said(chosen.value);
      return onceExitCode(await runCycle(config, [repo], deps, new Set([name])));
    });
  }
  for await (const reply of reached.daemon.replies) {
    if (!reply.ok) throw daemonError(reply);
    if ('pinned' in reply) said(reply.pinned);
    if ('finished' in reply) {
      for (const run of reply.finished) ctx.stdout.write(`${run.repo} ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
      return reply.finished.every((r) => r.status === 'succeeded' || r.status === 'skipped') ? EXIT.ok : EXIT.failed;
    }
  }
  if (ctx.signal.aborted) return EXIT.failed;
  throw new Error('the daemon closed the connection before the run ended');
}

/** Follows the named repos' refs again from their next check. */
export async function unpinCommand(names: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const reached = await reach(ctx, names, { op: 'unpin', repos: names });
  await applied(reached, ctx, async (state) => {
    for (const name of names) if (state.entry(name)?.pinned !== undefined) await state.update(name, withoutPin);
  });
  if (!ctx.global.quiet) ctx.stdout.write(`${names.join(', ')}: unpinned; the next check follows the ref again\n`);
  return EXIT.ok;
}

export async function cancelCommand(name: string, ctx: CommandContext): Promise<ExitCode> {
  const reached = await reach(ctx, [name], { op: 'cancel', repo: name });
  if (reached.daemon === undefined) throw new UsageError(`no gitwatch daemon runs on ${reached.config.statePath}: there is nothing to cancel`);
  const reply = await firstReply(reached.daemon);
  if (!reply.ok) throw daemonError(reply);
  const canceled = 'canceled' in reply && reply.canceled;
  ctx.stdout.write(canceled ? `${name}: canceled the running pipeline\n` : `${name}: no pipeline is running\n`);
  return EXIT.ok;
}
