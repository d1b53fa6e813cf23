// The command line's grammar: commands, options and help, built with commander. Loaded by main.ts only when
// there is more to do than print the version, since commander is most of what the entry would load.

import { Command, CommanderError, Option } from 'commander';
import type { ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';

export { CommanderError };

export interface RawGlobal {
  config?: string;
  logFormat: 'pretty' | 'json';
  color: boolean;
  quiet?: boolean;
  verbose?: boolean;
  shard?: string;
}

/** The commands that work on a part of the repos (SPEC: Scale beyond one machine). */
export const SHARDED = new Set(['run', 'once', 'plan', 'status', 'trigger', 'logs', 'pause', 'resume', 'cancel']);

function shardOption(): Option {
  return new Option('--shard <I/N>', 'handle only the repos of shard I of N, from 0 (also GITWATCH_SHARD)');
}

export function buildProgram(version: string, run: (action: (ctx: CommandContext) => Promise<ExitCode>, cmd: Command) => Promise<void>): Command {
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
    .command('rollback')
    .description("run the last good (or --to SHA's) pipeline again and pin the repo there; exits with that run's result")
    .option('--to <sha>', "a commit in the followed ref's history (default: the newest earlier commit whose run succeeded)")
    .argument('<repo>', 'the repo')
    .addOption(shardOption())
    .action((repo: string, opts: { to?: string }, cmd: Command) =>
      run(async (ctx) => (await import('./control-commands.js')).rollbackCommand(repo, { to: opts.to }, ctx), cmd),
    );
  program
    .command('unpin')
    .description("follow the named repos' refs again from their next check")
    .argument('<repo...>', 'repos to unpin')
    .addOption(shardOption())
    .action((repos: string[], _opts, cmd: Command) => run(async (ctx) => (await import('./control-commands.js')).unpinCommand(repos, ctx), cmd));
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
