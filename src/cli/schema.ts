// `gitwatch schema`: print the config's JSON Schema for editors. The schema is built into the CLI, so
// it is the one this gitwatch validates against, wherever the package lives.

import { EXIT, type ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';
import schema from '../../schema/gitwatch.schema.json' with { type: 'json' };

export const SCHEMA_FILE = 'gitwatch.schema.json';

export function schemaText(): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function schemaCommand(ctx: CommandContext): Promise<ExitCode> {
  ctx.stdout.write(schemaText());
  return Promise.resolve(EXIT.ok);
}
