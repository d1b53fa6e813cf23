// The process boundary: argv in, exit code out. With main.ts, the only module that touches `process`
// globals (argv, exitCode, signals); every command gets a CommandContext instead.

import { setMaxListeners } from 'node:events';
import { EXIT, exitCodeFor, type ExitCode } from '../errors.js';
import { describeError } from './describe-error.js';
import { systemClock } from '../runtime/clock.js';
import { OrphanGuard } from '../runtime/orphan-guard.js';
import { ProcessGroups } from '../runtime/processes.js';
import type { GitClient } from '../git/client.js';
import type { CommandContext, GlobalOptions, StopListener } from './context.js';
import type { RawGlobal } from './program.js';
import { GuardedOutput, isLiveTerminal } from './output.js';
import { parseShard } from '../rules/shard.js';

/** After a second SIGINT/SIGTERM, how long the command may take to leave its last screen before it is cut short. */
const STOP_NOW_MS = 3000;

/**
 * SIGHUP's default action ends the process, and `run` is ready for a reload only once its config is
 * loaded and its state locked. Caught from here on, a hangup waits until the daemon listens, and is
 * then applied once; any other command treats it like SIGTERM.
 */
const hangup = {
  listener: undefined as (() => void) | undefined,
  pending: false,
  /** Set when a command other than `run` starts. */
  stop: undefined as (() => void) | undefined,
};
process.on('SIGHUP', () => {
  if (hangup.listener) hangup.listener();
  else if (hangup.stop) hangup.stop();
  else hangup.pending = true;
});

const stdout = new GuardedOutput(process.stdout);
const stderr = new GuardedOutput(process.stderr);

async function main(argv: readonly string[], version: string): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const processes = new ProcessGroups({ pid: process.pid, kill: (pid, signal) => process.kill(pid, signal) }, new OrphanGuard());
  const controller = new AbortController();
  // Every concurrent git command and step listens for shutdown on this one signal.
  setMaxListeners(0, controller.signal);
  let signals = 0;
  let stopListener: StopListener | undefined;
  let stoppedNow = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // The state file is always whole (atomic writes); the running steps' groups must not outlive us.
      processes.killAll();
      if (stopListener === undefined || signals > 2) process.exit(EXIT.failed);
      // With nothing left to wait for, the command ends at once and leaves its last screen: the killed
      // runs recorded as interrupted, the view taken down. Should anything still hang, the exit does not.
      stoppedNow = true;
      stopListener.stoppingNow(signal);
      setTimeout(() => process.exit(EXIT.failed), STOP_NOW_MS).unref();
      return;
    }
    // Said before anything is stopped, so it comes before what the stop does (an interrupted run's summary).
    if (stopListener) stopListener.stopping(signal);
    else stderr.write(`gitwatch: ${signal}: stopping (send it again to exit at once)\n`);
    controller.abort();
  };
  const { buildProgram, CommanderError, SHARDED } = await import('./program.js');
  const program = buildProgram(version, async (action, cmd) => {
    const g = cmd.optsWithGlobals<RawGlobal>();
    // The flag wins over the variable; a command that splits nothing ignores the variable.
    const shardText = g.shard ?? (SHARDED.has(cmd.name()) ? process.env['GITWATCH_SHARD'] : undefined);
    const shard = shardText === undefined || shardText === '' ? undefined : parseShard(shardText);
    if (shard?.ok === false) {
      stderr.write(`gitwatch: ${g.shard === undefined ? 'GITWATCH_SHARD' : '--shard'}: ${shard.error}\n`);
      code = EXIT.usage;
      return;
    }
    const global: GlobalOptions = {
      shard: shard?.value,
      config: g.config,
      logFormat: g.logFormat,
      color: g.color && process.env['NO_COLOR'] === undefined,
      quiet: g.quiet ?? false,
      verbose: g.verbose ?? false,
    };
    const gitClients: GitClient[] = [];
    const ctx: CommandContext = {
      cwd: process.cwd(),
      env: process.env,
      stdout,
      stderr,
      liveTerminal: isLiveTerminal(process.stdout, process.env),
      uid: process.getuid?.(),
      clock: systemClock,
      signal: controller.signal,
      onHangup: (listener) => {
        hangup.listener = listener;
        if (hangup.pending) {
          hangup.pending = false;
          listener();
        }
        return () => {
          if (hangup.listener === listener) hangup.listener = undefined;
        };
      },
      onStop: (listener) => {
        stopListener = listener;
        return () => {
          if (stopListener === listener) stopListener = undefined;
        };
      },
      processes,
      gitClient: async (options) => {
        // Loaded here, not at start-up: most commands never talk to git.
        const { GitClient } = await import('../git/client.js');
        const git = new GitClient(process.env, processes, systemClock, options);
        gitClients.push(git);
        return git;
      },
      random: Math.random,
      global,
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (cmd.name() !== 'run') {
      hangup.stop = () => onSignal('SIGHUP');
      if (hangup.pending) hangup.stop();
    }
    try {
      code = await action(ctx);
      // Killed rather than shut down: not the clean exit 0 of a stopped daemon.
      if (stoppedNow) code = EXIT.failed;
    } catch (err) {
      stderr.write(`${describeError(err)}\n`);
      code = exitCodeFor(err);
    } finally {
      // Here rather than in each command, so no way a command ends can leave an SSH master (which keeps
      // Node running) or its folder behind.
      await Promise.all(gitClients.splice(0).map((git) => git.close()));
    }
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
  return code;
}

/** Runs the command `argv` names and sets the exit code: main.ts calls it for everything but `--version`. */
export function start(argv: readonly string[], version: string): Promise<void> {
  return main(argv, version).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      stderr.write(`${describeError(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
