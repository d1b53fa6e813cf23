// The signature checks of `verify:` for a command that checks remotes (`once`, `run`, `trigger`, `plan`).

import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { Keyrings } from '../verify/keyring.js';
import { Verifier } from '../verify/verifier.js';
import type { CommandContext } from './context.js';

/**
 * The signature checks of `verify:`, with every keyring the config needs made now: a key file gpg will
 * not take stops the start as a config problem at its line. `sweep`: only for the holder of the state's lock.
 */
export async function startVerifier(ctx: CommandContext, config: ResolvedConfig, options: { sweep: boolean }): Promise<Verifier> {
  const verifier = new Verifier(new Keyrings({ env: ctx.env, groups: ctx.processes, clock: ctx.clock }));
  const problems = await verifier.keyrings.prepare(config, options);
  if (problems.length > 0) throw new ConfigError(problems, await readFile(config.file, 'utf8').catch(() => ''));
  return verifier;
}
