// `gitwatch init [FILE]`: write a commented starter config, and the JSON Schema beside it for editors.
// Never overwrites an existing file.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';
import { SCHEMA_FILE, schemaText } from './schema.js';

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
    # paths: ["web/**", "!web/docs/**"]   # run only when a matching file changed
    # retry: { attempts: 2, backoff: 30s } # run a failed commit again, waiting 30s, then 60s

  # Jobs instead of a pipeline: a job starts once the jobs it needs have succeeded, and jobs that do not
  # depend on each other run at the same time (at most max_parallel, default 4).
  # api:
  #   url: git@git.example.com:org/api.git
  #   jobs:
  #     build:
  #       steps: [make build]
  #     lint:
  #       steps: [make lint]
  #     deploy:
  #       needs: [build, lint]
  #       steps: [make deploy]
`;
}

export async function initCommand(file: string | undefined, ctx: CommandContext): Promise<ExitCode> {
  const target = path.resolve(ctx.cwd, file ?? ctx.global.config ?? 'gitwatch.yaml');
  // Beside the config, not inside the package: the reference survives moving, reinstalling or
  // upgrading gitwatch, and the folder can be committed and opened on any machine.
  const schemaPath = path.join(path.dirname(target), SCHEMA_FILE);
  try {
    await writeFile(target, starterConfig(`./${SCHEMA_FILE}`), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${file ?? 'gitwatch.yaml'} already exists; gitwatch init does not overwrite it`);
    throw new UsageError(`cannot write ${target}: ${(err as Error).message}`);
  }
  const schemaNote = await writeSchema(schemaPath, path.relative(ctx.cwd, schemaPath) || schemaPath);
  if (!ctx.global.quiet) {
    const rel = path.relative(ctx.cwd, target) || target;
    ctx.stdout.write(`wrote ${rel} and ${schemaNote}; check it with: gitwatch validate -c ${rel}\n`);
  }
  return EXIT.ok;
}

/** Writes the schema unless a file of that name is there; an older copy is kept, and the note says how to refresh it. */
async function writeSchema(schemaPath: string, shown: string): Promise<string> {
  const text = schemaText();
  try {
    await writeFile(schemaPath, text, { flag: 'wx' });
    return shown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`cannot write ${schemaPath}: ${(err as Error).message}`);
  }
  const existing = await readFile(schemaPath, 'utf8').catch(() => '');
  return existing === text ? `kept ${shown} (up to date)` : `kept the existing ${shown} (refresh it with: gitwatch schema > ${shown})`;
}
