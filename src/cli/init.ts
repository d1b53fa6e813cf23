// `gitwatch init [FILE]`: write a commented starter config. Never overwrites an existing file.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';

/** The installed schema: found by walking up from this module, which lives at different depths in dist/. */
function installedSchema(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'schema', 'gitwatch.schema.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'schema', 'gitwatch.schema.json');
}

export function starterConfig(schemaPath: string): string {
  return `# yaml-language-server: $schema=${schemaPath}
#
# gitwatch: watch git repositories and run a pipeline on every new commit.
# Check this file with \`gitwatch validate\`; run one cycle with \`gitwatch once\`.
version: 1

# Where gitwatch records the last processed commit per repo, and keeps checkouts and run logs.
# Relative paths are relative to this file's folder.
state: .gitwatch.lock.json
workdir: .gitwatch

# Every repo inherits these unless it sets them itself.
defaults:
  interval: 60s      # how often each remote is checked
  timeout: 30m       # per step
  git_timeout: 2m    # per git command
  env:
    TZ: UTC

repos:
  # The key is the repo's name: lower-case letters, digits, '.', '_' and '-'.
  site:
    # https, http, ssh, git@host:path, git://, file:// or a local path.
    # Credentials: https://user:\${TOKEN}@host/org/site.git (they never appear in output or the state).
    url: https://git.example.com/org/site.git
    branch: main       # leave out to follow the remote's default branch
    pipeline:          # run in order in the checkout, with /bin/sh -c
      - make test
      - name: deploy
        run: make deploy
        timeout: 5m
        env:
          TARGET: production
`;
}

export async function initCommand(file: string | undefined, ctx: CommandContext): Promise<ExitCode> {
  const target = path.resolve(ctx.cwd, file ?? ctx.global.config ?? 'gitwatch.yaml');
  let schemaRef = path.relative(path.dirname(target), installedSchema());
  if (!schemaRef.startsWith('.')) schemaRef = `./${schemaRef}`;
  try {
    await writeFile(target, starterConfig(schemaRef), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${file ?? 'gitwatch.yaml'} already exists; gitwatch init does not overwrite it`);
    throw new UsageError(`cannot write ${target}: ${(err as Error).message}`);
  }
  if (!ctx.global.quiet)
    ctx.stdout.write(`wrote ${path.relative(ctx.cwd, target) || target}; check it with: gitwatch validate -c ${path.relative(ctx.cwd, target)}\n`);
  return EXIT.ok;
}
