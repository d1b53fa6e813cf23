// Runs a repo's pipeline in its checkout: the jobs as a graph, each job's steps in order, the step
// environment, the run logs and events per step. A `pipeline` is a graph of one job.

import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration } from '../rules/duration.js';
import type { Env, StepStatus } from '../domain.js';
import type { Job, RepoConfig, Step } from '../config/types.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { maskableSecrets } from '../rules/secret-mask.js';
import { RunLogs } from './run-log.js';
import { runStepProcess, type StepProcessResult } from './step-process.js';
import { spawnFailure } from '../runtime/spawn-failure.js';

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
  const logs = new RunLogs(run.logFile, run.logCap);
  try {
    return await runJobs(run, logs);
  } finally {
    await logs.close();
  }
}

/** How a job ended; `skipped`: a job it needs did not succeed, or the run was stopped first. */
type JobStatus = 'succeeded' | 'failed' | 'interrupted' | 'canceled' | 'skipped';

interface JobResult {
  readonly status: JobStatus;
  readonly error?: string | undefined;
}

/**
 * The jobs as a graph: a job starts the moment every job it needs has succeeded (not in waves), up to
 * `maxParallel` at once, in config order among the ready ones. A job that does not succeed skips the jobs
 * that need it, directly or not; the others still run. Shutdown and `cancel` start nothing new.
 * A `pipeline` is one job, so it takes the same path.
 */
async function runJobs(run: PipelineRun, logs: RunLogs): Promise<PipelineResult> {
  const { repo } = run;
  const results = new Map<string, JobResult>();
  const key = (job: Job): string => job.name ?? '';
  const running = new Map<string, Promise<void>>();
  let failure: string | undefined;
  let interrupted: string | undefined;
  const pending = [...repo.jobs];
  const stopped = (): boolean => run.signal?.aborted === true || run.cancel?.aborted === true;
  while (pending.length > 0 || running.size > 0) {
    for (const job of [...pending]) {
      const blocked = job.needs.find((need) => {
        const r = results.get(need);
        return r !== undefined && r.status !== 'succeeded';
      });
      const ready = job.needs.every((need) => results.get(need)?.status === 'succeeded');
      if (blocked !== undefined || stopped()) {
        pending.splice(pending.indexOf(job), 1);
        const why = blocked !== undefined ? `needs '${blocked}', which ${describeJob(results.get(blocked))}` : 'the run was stopped first';
        skipJob(run, logs, job, why);
        results.set(key(job), { status: 'skipped' });
        continue;
      }
      if (!ready || running.size >= repo.maxParallel) continue;
      pending.splice(pending.indexOf(job), 1);
      running.set(
        key(job),
        runJob(run, logs, job).then((result) => {
          results.set(key(job), result);
          running.delete(key(job));
          if (result.status === 'interrupted') interrupted ??= result.error;
          else if (result.status === 'failed' || result.status === 'canceled') failure ??= result.error;
        }),
      );
    }
    if (running.size === 0) {
      // Nothing runs and nothing can start: what is left waits on jobs that will never succeed.
      for (const job of pending.splice(0)) {
        skipJob(run, logs, job, 'a job it needs did not run');
        results.set(key(job), { status: 'skipped' });
      }
      break;
    }
    await Promise.race(running.values());
  }
  // `cancel` ends the run as failed, whether it stopped a step or only kept jobs from starting.
  const canceled =
    run.signal?.aborted !== true && run.cancel?.aborted === true && [...results.values()].some((r) => r.status === 'canceled' || r.status === 'skipped');
  if (canceled) return { status: 'failed', error: 'canceled' };
  if (interrupted !== undefined) return { status: 'interrupted', error: interrupted };
  if (failure !== undefined) return { status: 'failed', error: failure };
  const skippedByShutdown = [...results.values()].some((r) => r.status === 'skipped') && run.signal?.aborted === true;
  if (skippedByShutdown) return { status: 'interrupted', error: 'interrupted before all steps ran' };
  return { status: 'succeeded' };
}

function describeJob(result: JobResult | undefined): string {
  switch (result?.status) {
    case 'skipped':
      return 'was skipped';
    case 'interrupted':
      return 'was interrupted';
    case 'canceled':
      return 'was canceled';
    default:
      return 'failed';
  }
}

function skipJob(run: PipelineRun, logs: RunLogs, job: Job, why: string): void {
  if (job.name !== undefined) logs.note(`==> job ${job.name} skipped: ${why}`);
  for (const index of job.steps) {
    const step = run.repo.steps[index];
    if (step !== undefined) run.reporter.emit({ type: 'step-skipped', repo: run.repo.name, step: step.label, index });
  }
}

/** One job's steps in order: the first failure (without continue_on_error) ends the job. */
async function runJob(run: PipelineRun, logs: RunLogs, job: Job): Promise<JobResult> {
  const { repo, reporter } = run;
  const log = logs.forJob(job.name);
  if (job.name !== undefined) logs.note(`==> job ${job.name} started`);
  let failure: string | undefined;
  let skippedByShutdown = false;
  let canceled = false;
  for (const index of job.steps) {
    const step = repo.steps[index];
    if (step === undefined) continue;
    if (failure === undefined && run.signal?.aborted) skippedByShutdown = true;
    if (failure !== undefined || skippedByShutdown) {
      reporter.emit({ type: 'step-skipped', repo: repo.name, step: step.label, index });
      continue;
    }
    reporter.emit({ type: 'step-started', repo: repo.name, step: step.label, index });
    log.note(`==> ${step.label}${step.name === step.run ? '' : ` (${step.run})`}`);
    const tail: string[] = [];
    const started = run.clock.now().getTime();
    const cwd = step.cwd === undefined ? repo.checkout : path.join(repo.checkout, step.cwd);
    // The shell would report a missing folder as a missing command (127), which points the wrong way.
    const noCwd = step.cwd !== undefined && !(await isFolder(cwd)) ? `step '${step.label}': cwd '${step.cwd}' does not exist in the checkout` : undefined;
    const result =
      noCwd !== undefined
        ? NOT_STARTED
        : await runStepProcess({
            command: step.run,
            cwd,
            env: stepEnv(run, step),
            secrets: runSecrets(run),
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
              log.line(line);
              reporter.emit({ type: 'step-output', repo: repo.name, step: step.label, index, line });
            },
          });
    const error = noCwd ?? stepError(step, result.status, result.exitCode, result.signal, result.spawnError);
    const ignored = error !== undefined && step.continueOnError && result.status !== 'interrupted' && result.status !== 'canceled';
    log.note(`<== ${step.label}: ${error ?? 'succeeded'}${ignored ? ' (continue_on_error)' : ''}`);
    const durationMs = run.clock.now().getTime() - started;
    reporter.emit({ type: 'step-finished', repo: repo.name, step: step.label, index, status: result.status, durationMs, error, tail, ignored });
    if (result.status === 'interrupted') {
      if (job.name !== undefined) logs.note(`<== job ${job.name}: interrupted`);
      return { status: 'interrupted', error: `interrupted during step '${step.label}'` };
    }
    // Canceled ends the job like a failure that continue_on_error cannot pass: the loop skips the rest.
    if (result.status === 'canceled') {
      failure = 'canceled';
      canceled = true;
      continue;
    }
    if (error !== undefined && !ignored) failure = error;
  }
  const status: JobStatus = canceled ? 'canceled' : failure !== undefined ? 'failed' : skippedByShutdown ? 'interrupted' : 'succeeded';
  if (job.name !== undefined) logs.note(`<== job ${job.name}: ${failure ?? status}`);
  if (status === 'interrupted') return { status, error: 'interrupted before all steps ran' };
  return failure === undefined ? { status } : { status, error: failure };
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
      return `step '${step.label}' timed out after ${formatDuration(step.timeoutMs)}`;
    case 'interrupted':
      return `step '${step.label}' was interrupted`;
    case 'canceled':
      return `step '${step.label}' was canceled`;
    case 'failed':
      // The kernel refused to start the shell: the command plus the environment passed its size limit.
      if (spawnError === 'E2BIG') return `step '${step.label}' could not start: its command and environment are too large for the system (E2BIG)`;
      if (spawnError !== undefined) return `step '${step.label}' could not start: ${spawnFailure(spawnError)}`;
      if (code === 127) return `step '${step.label}' exited with code 127 (command not found)`;
      return signal !== undefined ? `step '${step.label}' was killed by ${signal}` : `step '${step.label}' exited with code ${code ?? '?'}`;
  }
}

/** The values masked in step output: those of every variable a secret field of the config interpolated. */
export function runSecrets(run: Pick<PipelineRun, 'repo' | 'env'>): string[] {
  return maskableSecrets(run.repo.secretVars.map((name) => run.env[name]));
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
    GITWATCH_STEP: step.label,
    ...(step.job === undefined ? {} : { GITWATCH_JOB: step.job }),
  };
}
