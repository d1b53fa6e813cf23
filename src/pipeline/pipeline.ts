// Runs a repo's steps in order in its checkout: the step environment, the run log, events per step,
// and the rule that the first failure (without continue_on_error) ends the run.

import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration } from '../rules/duration.js';
import type { Env, StepStatus } from '../domain.js';
import type { RepoConfig, Step } from '../config/types.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { CappedRunLog } from './run-log.js';
import { runStepProcess, type StepProcessResult } from './step-process.js';

export interface PipelineRun {
  readonly repo: RepoConfig;
  readonly branch: string;
  /** The tag being processed (`tag:` repos). */
  readonly tag?: string | undefined;
  readonly commit: string;
  readonly previousCommit: string | undefined;
  readonly logFile: string;
  /** The environment gitwatch was started with. */
  readonly env: Env;
  readonly reporter: Reporter;
  readonly signal?: AbortSignal | undefined;
  /** Aborted by `gitwatch cancel`: the running step is stopped like a timeout and the run fails. */
  readonly cancel?: AbortSignal | undefined;
  /** Most step output one run log keeps (default RUN_LOG_CAP). */
  readonly logCap?: number;
  readonly graceMs?: number;
  readonly clock: Clock;
  readonly groups: ProcessGroups;
}

export interface PipelineResult {
  readonly status: 'succeeded' | 'failed' | 'interrupted';
  readonly error?: string;
}

const TAIL_LINES = 20;

export async function runPipeline(run: PipelineRun): Promise<PipelineResult> {
  await mkdir(path.dirname(run.logFile), { recursive: true, mode: 0o700 });
  const log = createWriteStream(run.logFile, { flags: 'a', mode: 0o600 });
  // The run log is best effort: a full disk must not crash gitwatch mid-step (the state write reports it).
  log.on('error', () => undefined);
  const capped = new CappedRunLog(log, run.logCap);
  try {
    return await runSteps(run, capped);
  } finally {
    capped.finish();
    await new Promise<void>((resolve) => {
      log.once('error', () => resolve());
      log.end(() => resolve());
    });
  }
}

async function runSteps(run: PipelineRun, log: CappedRunLog): Promise<PipelineResult> {
  const { repo, reporter } = run;
  let failure: string | undefined;
  let skippedByShutdown = false;
  for (const [index, step] of repo.pipeline.entries()) {
    if (failure === undefined && run.signal?.aborted) skippedByShutdown = true;
    if (failure !== undefined || skippedByShutdown) {
      reporter.emit({ type: 'step-skipped', repo: repo.name, step: step.name, index });
      continue;
    }
    reporter.emit({ type: 'step-started', repo: repo.name, step: step.name, index });
    log.note(`==> ${step.name}${step.name === step.run ? '' : ` (${step.run})`}`);
    const tail: string[] = [];
    const started = run.clock.now().getTime();
    const cwd = step.cwd === undefined ? repo.checkout : path.join(repo.checkout, step.cwd);
    // The shell would report a missing folder as a missing command (127), which points the wrong way.
    const noCwd = step.cwd !== undefined && !(await isFolder(cwd)) ? `step '${step.name}': cwd '${step.cwd}' does not exist in the checkout` : undefined;
    const result =
      noCwd !== undefined
        ? NOT_STARTED
        : await runStepProcess({
            command: step.run,
            cwd,
            env: stepEnv(run, step),
            timeoutMs: step.timeoutMs,
            signal: run.signal,
            cancel: run.cancel,
            graceMs: run.graceMs,
            clock: run.clock,
            groups: run.groups,
            log,
            backlog: () => reporter.backlog?.(),
            onLine: (line) => {
              tail.push(line);
              if (tail.length > TAIL_LINES) tail.shift();
              reporter.emit({ type: 'step-output', repo: repo.name, step: step.name, line });
            },
          });
    const error = noCwd ?? stepError(step, result.status, result.exitCode, result.signal, result.spawnError);
    const ignored = error !== undefined && step.continueOnError && result.status !== 'interrupted' && result.status !== 'canceled';
    log.note(`<== ${step.name}: ${error ?? 'succeeded'}${ignored ? ' (continue_on_error)' : ''}`);
    const durationMs = run.clock.now().getTime() - started;
    reporter.emit({ type: 'step-finished', repo: repo.name, step: step.name, index, status: result.status, durationMs, error, tail, ignored });
    if (result.status === 'interrupted') return { status: 'interrupted', error: `interrupted during step '${step.name}'` };
    // Canceled ends the run like a failure that continue_on_error cannot pass: the loop skips the rest.
    if (result.status === 'canceled') {
      failure = 'canceled';
      continue;
    }
    if (error !== undefined && !ignored) failure = error;
  }
  if (skippedByShutdown && failure === undefined) return { status: 'interrupted', error: 'interrupted before all steps ran' };
  return failure === undefined ? { status: 'succeeded' } : { status: 'failed', error: failure };
}

const NOT_STARTED: StepProcessResult = { status: 'failed', exitCode: undefined, signal: undefined };

async function isFolder(folder: string): Promise<boolean> {
  return (await stat(folder).catch(() => undefined))?.isDirectory() === true;
}

function stepError(step: Step, status: StepStatus, code: number | undefined, signal: string | undefined, spawnError?: string): string | undefined {
  switch (status) {
    case 'succeeded':
      return undefined;
    case 'timed-out':
      return `step '${step.name}' timed out after ${formatDuration(step.timeoutMs)}`;
    case 'interrupted':
      return `step '${step.name}' was interrupted`;
    case 'canceled':
      return `step '${step.name}' was canceled`;
    case 'failed':
      // The kernel refused to start the shell: the command plus the environment passed its size limit.
      if (spawnError === 'E2BIG') return `step '${step.name}' could not start: its command and environment are too large for the system (E2BIG)`;
      if (code === 127) return `step '${step.name}' exited with code 127 (command not found)`;
      return signal !== undefined ? `step '${step.name}' was killed by ${signal}` : `step '${step.name}' exited with code ${code ?? '?'}`;
  }
}

/** Process environment, then defaults.env and repo env (merged in the config), step env, then GITWATCH_*. */
export function stepEnv(run: PipelineRun, step: Step): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(run.env)) {
    if (value !== undefined && !run.repo.secretVars.includes(key)) env[key] = value;
  }
  return {
    ...env,
    ...run.repo.env,
    ...step.env,
    // A branch glob's target runs as its repo; GITWATCH_TARGET names the target (`site@release/1.0`).
    GITWATCH_REPO: run.repo.target?.repo ?? run.repo.name,
    ...(run.repo.target === undefined ? {} : { GITWATCH_TARGET: run.repo.name }),
    GITWATCH_URL: run.repo.displayUrl,
    GITWATCH_BRANCH: run.branch,
    GITWATCH_TAG: run.tag ?? '',
    GITWATCH_COMMIT: run.commit,
    GITWATCH_PREVIOUS_COMMIT: run.previousCommit ?? '',
    GITWATCH_CHECKOUT: path.resolve(run.repo.checkout),
    GITWATCH_STEP: step.name,
  };
}
