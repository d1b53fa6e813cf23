// `trigger`, `pause`, `resume` and `cancel`: through the daemon's control socket when a daemon runs on
// this state, and on the state file alone (holding its lock) when none does.

import type { ResolvedConfig } from '../config/types.js';
import { askDaemon, daemonError, firstReply, type Connection } from '../control/client.js';
import type { ControlRequest } from '../control/protocol.js';
import { runCycle } from '../cycle/cycle.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { acquireInstanceLock } from '../state/instance-lock.js';
import { StateKeeper } from '../state/state-keeper.js';
import { loadForCommand, selectRepos } from './config-input.js';
import type { CommandContext } from './context.js';
import { withPaused } from '../supervisor/supervisor.js';
import { onceExitCode } from './once.js';
import { withStateSession } from './session.js';

async function named(ctx: CommandContext, names: readonly string[]): Promise<ResolvedConfig> {
  if (names.length === 0) throw new UsageError('name at least one repo');
  const { config } = await loadForCommand(ctx);
  selectRepos(config, names);
  return config;
}

async function ask(config: ResolvedConfig, request: ControlRequest, ctx: CommandContext): Promise<Connection> {
  return askDaemon(config.statePath, request, ctx.uid, ctx.signal);
}

export async function triggerCommand(names: readonly string[], options: { wait: boolean }, ctx: CommandContext): Promise<ExitCode> {
  const config = await named(ctx, names);
  const connection = await ask(config, { op: 'trigger', repos: names, wait: options.wait }, ctx);
  if (!connection.daemon) {
    // No daemon: run it here, like `once REPO` but new commit or not.
    return withStateSession(ctx, config, async (deps) =>
      onceExitCode(await runCycle(config, selectRepos(config, names, deps.state.current.repos), deps, new Set(names))),
    );
  }
  let accepted = false;
  for await (const reply of connection.replies) {
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
  const config = await named(ctx, names);
  const connection = await ask(config, { op: pause ? 'pause' : 'resume', repos: names }, ctx);
  if (connection.daemon) {
    const reply = await firstReply(connection);
    if (!reply.ok) throw daemonError(reply);
  } else {
    const lock = await acquireInstanceLock(config.statePath, ctx.processes);
    try {
      const state = await StateKeeper.open(config.statePath, ctx.processes.pid);
      for (const name of names) await state.update(name, (entry) => withPaused(entry, pause));
    } finally {
      await lock.release();
    }
  }
  if (!ctx.global.quiet) ctx.stdout.write(`${names.join(', ')}: ${pause ? 'paused (a running pipeline finishes)' : 'resumed'}\n`);
  return EXIT.ok;
}

export async function cancelCommand(name: string, ctx: CommandContext): Promise<ExitCode> {
  const config = await named(ctx, [name]);
  const connection = await ask(config, { op: 'cancel', repo: name }, ctx);
  if (!connection.daemon) throw new UsageError(`no gitwatch daemon runs on ${config.statePath}: there is nothing to cancel`);
  const reply = await firstReply(connection);
  if (!reply.ok) throw daemonError(reply);
  const canceled = 'canceled' in reply && reply.canceled;
  ctx.stdout.write(canceled ? `${name}: canceled the running pipeline\n` : `${name}: no pipeline is running\n`);
  return EXIT.ok;
}
