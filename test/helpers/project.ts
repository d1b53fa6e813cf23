// A gitwatch project in a temp folder: a config file, its state, and the real CLI pointed at it.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { runCli, type CliResult } from './cli.js';
import { tempDir, testEnv } from './temp.js';

/** The lock file as tests read it: loosely, so a test can see what gitwatch should not have written. */
export interface LockFile {
  version: number;
  repos: Record<string, { commit?: string; branch?: string; url?: string; lastRun?: { commit: string; status: string; error?: string } }>;
}

export interface Project {
  readonly dir: string;
  readonly configPath: string;
  readonly statePath: string;
  readonly env: Record<string, string>;
  writeConfig(config: unknown): Promise<void>;
  cli(...args: string[]): Promise<CliResult>;
  state(): Promise<LockFile>;
  /** Lines appended by steps that run `echo ... >> "$RECORD"`. */
  record(): Promise<string[]>;
}

export async function makeProject(t: TestContext, config?: unknown): Promise<Project> {
  const dir = await tempDir(t);
  const configPath = path.join(dir, 'gitwatch.yaml');
  const recordPath = path.join(dir, 'record.txt');
  const env = testEnv(dir, { RECORD: recordPath });
  const project: Project = {
    dir,
    configPath,
    statePath: path.join(dir, '.gitwatch.lock.json'),
    env,
    writeConfig: (c) => writeFile(configPath, typeof c === 'string' ? c : stringify(c)),
    cli: (...args) => runCli(args, { cwd: dir, env }),
    state: async () => JSON.parse(await readFile(path.join(dir, '.gitwatch.lock.json'), 'utf8')) as LockFile,
    record: async () => (await readFile(recordPath, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
  };
  if (config !== undefined) await project.writeConfig(config);
  return project;
}

/** A step that records which commit it ran for, and the previous one. */
export const RECORD_STEP = 'echo "$GITWATCH_REPO $GITWATCH_COMMIT prev=$GITWATCH_PREVIOUS_COMMIT step=$GITWATCH_STEP" >> "$RECORD"';
