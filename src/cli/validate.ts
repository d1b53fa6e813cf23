// `gitwatch validate`: check the config, print every problem, change nothing.

import { ConfigError, EXIT, type ExitCode } from '../errors.js';
import { loadForCommand } from './config-input.js';
import type { CommandContext } from './context.js';

export async function validateCommand(options: { json: boolean }, ctx: CommandContext): Promise<ExitCode> {
  try {
    const { config } = await loadForCommand(ctx);
    const n = config.repos.length;
    if (options.json) ctx.stdout.write(`${JSON.stringify({ ok: true, file: config.file, repos: n, diagnostics: [] })}\n`);
    else if (!ctx.global.quiet) ctx.stdout.write(`${config.file}: valid (${n} repo${n === 1 ? '' : 's'})\n`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof ConfigError) || !options.json) throw err;
    // The JSON is the whole answer: a script that asked for it gets no second copy in words on stderr.
    ctx.stdout.write(`${JSON.stringify({ ok: false, diagnostics: err.diagnostics })}\n`);
    return EXIT.usage;
  }
}
