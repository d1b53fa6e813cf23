// The process boundary: argv in, exit code out. The only module that touches `process` globals
// (argv, exitCode, signals); every command gets a CommandContext instead.

import { setMaxListeners } from 'node:events';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, exitCodeFor, type ExitCode } from '../errors.js';
import { describeError } from './describe-error.js';
import { systemClock } from '../runtime/clock.js';
import { OrphanGuard } from '../runtime/orphan-guard.js';
import { ProcessGroups } from '../runtime/processes.js';
import type { GitClient } from '../git/client.js';
import type { CommandContext, GlobalOptions, StopListener } from './context.js';
import { GuardedOutput, isLiveTerminal } from './output.js';
import { parseShard } from '../rules/shard.js';

import pkg from '../../package.json' with { type: 'json' };

const { version } = pkg;

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

interface RawGlobal {
  config?: string;
  logFormat: 'pretty' | 'json';
  color: boolean;
  quiet?: boolean;
  verbose?: boolean;
  shard?: string;
}

/** The commands that work on a part of the repos (SPEC: Scale beyond one machine). */
const SHARDED = new Set(['run', 'once', 'plan', 'status', 'trigger', 'logs', 'pause', 'resume', 'cancel']);

function shardOption(): Option {
  return new Option('--shard <I/N>', 'handle only the repos of shard I of N, from 0 (also GITWATCH_SHARD)');
}

function buildProgram(run: (action: (ctx: CommandContext) => Promise<ExitCode>, cmd: Command) => Promise<void>): Command {
  const program = new Command('gitwatch')
    .description('Watch git repositories and run a pipeline on every new commit.')
    .version(version, '--version')
    .option('-c, --config <file>', 'config file (default: $GITWATCH_CONFIG, ./gitwatch.yaml, ./gitwatch.yml)')
    .addOption(new Option('--log-format <format>', 'event output').choices(['pretty', 'json']).default('pretty'))
    .option('--no-color', 'no colors (also NO_COLOR)')
    .option('-q, --quiet', 'report failures only')
    .option('-v, --verbose', 'stream every step output line')
    .showHelpAfterError()
    // Every command takes -c and the output options: its own --help lists them too.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  program
    .command('once')
    .description('run one cycle over all (or the named) repos, then exit')
    .argument('[repo...]', 'repos to check (default: all)')
    .addOption(shardOption())
    .action((repos: string[], _opts, cmd: Command) => run(async (ctx) => (await import('./once.js')).onceCommand(repos, ctx), cmd));
  program
    .command('run')
    .description('run as a daemon: check every repo on its interval until SIGINT/SIGTERM; hot-reload the config')
    .option('--listen <host:port>', 'serve /healthz, /metrics and /hooks/<repo> over HTTP (off by default)')
    .addOption(shardOption())
    .action((opts: { listen?: string }, cmd: Command) => run(async (ctx) => (await import('./run.js')).runCommand(ctx, { listen: opts.listen }), cmd));
  program
    .command('validate')
    .description('check the config file; print every problem; change nothing')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }, cmd: Command) =>
      run(async (ctx) => (await import('./validate.js')).validateCommand({ json: opts.json ?? false }, ctx), cmd),
    );
  program
    .command('plan')
    .description('what the next cycle would do per repo, and why; changes nothing')
    .argument('[repo...]', 'repos to plan (default: all)')
    .option('--json', 'print JSON for scripts')
    .addOption(shardOption())
    .action((repos: string[], opts: { json?: boolean }, cmd: Command) =>
      run(async (ctx) => (await import('./plan.js')).planCommand(repos, { json: opts.json ?? false }, ctx), cmd),
    );
  program
    .command('status')
    .description('per repo: branch, processed commit, last run and its result')
    .option('--json', 'print JSON for scripts')
    .addOption(shardOption())
    .action((opts: { json?: boolean }, cmd: Command) =>
      run(async (ctx) => (await import('./status.js')).statusCommand({ json: opts.json ?? false }, ctx), cmd),
    );
  program
    .command('trigger')
    .description("run the named repos' pipelines now, new commit or not (through the daemon, or here when none runs)")
    .option('--wait', "wait for the daemon's run and exit with its result")
    .argument('<repo...>', 'repos to run')
    .addOption(shardOption())
    .action((repos: string[], opts: { wait?: boolean }, cmd: Command) =>
      run(async (ctx) => (await import('./control-commands.js')).triggerCommand(repos, { wait: opts.wait ?? false }, ctx), cmd),
    );
  program
    .command('logs')
    .description("print the newest run's output; -f follows it, and the runs after it, until Ctrl-C")
    .option('-f, --follow', 'keep following')
    .argument('<repo>', 'the repo')
    .addOption(shardOption())
    .action((repo: string, opts: { follow?: boolean }, cmd: Command) =>
      run(async (ctx) => (await import('./logs.js')).logsCommand(repo, { follow: opts.follow ?? false }, ctx), cmd),
    );
  program
    .command('pause')
    .description('stop checking the named repos (a running pipeline finishes); lasts across restarts')
    .argument('<repo...>', 'repos to pause')
    .addOption(shardOption())
    .action((repos: string[], _opts, cmd: Command) => run(async (ctx) => (await import('./control-commands.js')).pauseCommand(repos, true, ctx), cmd));
  program
    .command('resume')
    .description('check the named repos again, at once')
    .argument('<repo...>', 'repos to resume')
    .addOption(shardOption())
    .action((repos: string[], _opts, cmd: Command) => run(async (ctx) => (await import('./control-commands.js')).pauseCommand(repos, false, ctx), cmd));
  program
    .command('cancel')
    .description("stop the repo's running pipeline (needs a running daemon)")
    .argument('<repo>', 'the repo')
    .addOption(shardOption())
    .action((repo: string, _opts, cmd: Command) => run(async (ctx) => (await import('./control-commands.js')).cancelCommand(repo, ctx), cmd));
  program
    .command('init')
    .description('write a commented starter config (refuses to overwrite)')
    .argument('[file]', 'where to write it (default: ./gitwatch.yaml)')
    .action((file: string | undefined, _opts, cmd: Command) => run(async (ctx) => (await import('./init.js')).initCommand(file, ctx), cmd));
  program
    .command('schema')
    .description("print the config's JSON Schema (for editors; init writes it beside the config)")
    .action((_opts, cmd: Command) => run(async (ctx) => (await import('./schema.js')).schemaCommand(ctx), cmd));
  return program;
}

const stdout = new GuardedOutput(process.stdout);
const stderr = new GuardedOutput(process.stderr);

async function main(argv: readonly string[]): Promise<ExitCode> {
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
  const program = buildProgram(async (action, cmd) => {
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    stderr.write(`${describeError(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);
