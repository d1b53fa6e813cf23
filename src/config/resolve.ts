// From a schema-valid config to a resolved one: interpolation, defaults, durations, absolute paths,
// and the rules that span several keys. Collects every problem instead of stopping at the first.

import path from 'node:path';
import { branchNameProblem } from '../rules/ref-name.js';
import { globProblem, isGlob, rangeProblem } from '../rules/ref-pattern.js';
import { parseRemote } from '../rules/remote-url.js';
import { DEFAULT_STATE_FILE, err, ok, WORKDIR_LAYOUT, type Diagnostic, type Result } from '../domain.js';
import { formatKeyPath, type KeyPath } from './diagnostics.js';
import { formatDuration, parseDuration } from '../rules/duration.js';
import { interpolate } from './interpolate.js';
import type { RawConfig, RawEnv, RawJob, RawNotify, RawRepo, RawRetry, RawStep } from './raw.js';
import { resolveVerify, verifyOf } from './resolve-verify.js';
import type { Env } from '../domain.js';
import { closest } from './schema.js';
import {
  DEFAULT_MAX_PARALLEL,
  DEFAULT_RETRY_BACKOFF_MS,
  DEFAULT_SKIP_MARKERS,
  type Job,
  type NotifyTarget,
  type RepoConfig,
  type ConfigPlace,
  type ResolvedConfig,
  type Retry,
  type Step,
  type VerifyConfig,
} from './types.js';
import type { YamlSource } from './yaml-source.js';

const EMPTY_WEBHOOK_SECRET =
  'an empty secret would accept any delivery (an empty token, or an HMAC with an empty key); set the variable, or remove webhook_secret';

const EMPTY_LISTEN_TOKEN = 'an empty token would let anyone act on the status page; set the variable, or remove listen_token';

export const BUILT_IN = { intervalMs: 60_000, timeoutMs: 30 * 60_000, gitTimeoutMs: 2 * 60_000 } as const;

class Resolver {
  readonly problems: Diagnostic[] = [];
  /** Every variable a secret field interpolated (URL credentials, webhook_secret, notify URLs): kept out of steps. */
  readonly secretVars = new Set<string>();
  constructor(
    private readonly source: YamlSource,
    private readonly env: Env,
  ) {}

  hasKey(path: KeyPath): boolean {
    return this.source.doc.hasIn(path);
  }

  /** Where `path` stands, for a problem found later (a key file that cannot be read). */
  place(path: KeyPath, atKey = false): ConfigPlace {
    return { ...this.source.position(path, atKey), path: formatKeyPath(path) };
  }

  fail(path: KeyPath, message: string, atKey = false): void {
    this.problems.push(this.source.diagnostic(path, message, this.source.position(path, atKey)));
  }

  text(path: KeyPath, value: string): { value: string; vars: readonly string[] } {
    const r = interpolate(value, this.env);
    if (r.ok) return r.value;
    this.problems.push(this.source.diagnostic(path, r.error.message, this.source.positionInScalar(path, r.error.index)));
    return { value, vars: [] };
  }

  /** A secret field's value, interpolated; its variables are secrets, and an empty secret is an error. */
  secret(path: KeyPath, value: string, whyNotEmpty: string): { value: string; vars: readonly string[] } {
    const r = this.text(path, value);
    this.keepSecret(r.vars);
    if (r.value === '' && value !== '') {
      const set = r.vars.length > 0 ? ` (${r.vars.join(', ')} ${r.vars.length === 1 ? 'is' : 'are'} set but empty)` : '';
      this.fail(path, `${String(path[path.length - 1])} is empty${set}: ${whyNotEmpty}`);
    }
    return r;
  }

  keepSecret(vars: readonly string[]): void {
    for (const name of vars) this.secretVars.add(name);
  }

  envValue(name: string): string | undefined {
    return this.env[name];
  }

  /** An optional string setting, interpolated; a value of the wrong type was already reported by the schema. */
  optionalText(path: KeyPath, value: unknown): string | undefined {
    return typeof value === 'string' ? this.text(path, value).value : undefined;
  }

  duration(path: KeyPath, value: unknown, fallback: number, min = 0): number {
    const ms = parseDuration(value);
    if (ms === undefined) return fallback;
    if (ms < min) this.fail(path, `must be at least ${formatDuration(min)}, found ${formatDuration(ms)}`);
    else if (ms === 0) this.fail(path, 'must be more than 0');
    return ms;
  }

  envMap(path: KeyPath, env: RawEnv | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(isObject(env) ? env : {})) {
      // Anything but a string, number or boolean is the schema's error to report; it must not throw here.
      out[key] =
        typeof value === 'string' ? this.text([...path, key], value).value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
    }
    return out;
  }
}

export function resolveConfig(raw: RawConfig, source: YamlSource, configPath: string, env: Env): Result<ResolvedConfig, Diagnostic[]> {
  const r = new Resolver(source, env);
  const dir = path.dirname(configPath);
  if (!isObject(raw)) return err(r.problems);
  const statePath = path.resolve(dir, r.optionalText(['state'], raw.state) ?? DEFAULT_STATE_FILE);
  const workdir = path.resolve(dir, r.optionalText(['workdir'], raw.workdir) ?? '.gitwatch');
  const defaults = isObject(raw.defaults) ? raw.defaults : {};
  const base = {
    intervalMs: r.duration(['defaults', 'interval'], defaults.interval, BUILT_IN.intervalMs, 1000),
    timeoutMs: r.duration(['defaults', 'timeout'], defaults.timeout, BUILT_IN.timeoutMs),
    gitTimeoutMs: r.duration(['defaults', 'git_timeout'], defaults.git_timeout, BUILT_IN.gitTimeoutMs, 1000),
    env: r.envMap(['defaults', 'env'], defaults.env),
    sshKey: r.optionalText(['defaults', 'ssh_key'], defaults.ssh_key),
    knownHosts: r.optionalText(['defaults', 'known_hosts'], defaults.known_hosts),
    notify: resolveNotify(r, ['defaults', 'notify'], defaults.notify),
    retry: resolveRetry(r, ['defaults', 'retry'], defaults.retry),
    skipMarkers: Array.isArray(defaults.skip_markers) ? [...defaults.skip_markers] : DEFAULT_SKIP_MARKERS,
    group: typeof defaults.group === 'string' ? defaults.group : undefined,
    verify: resolveVerify(r, ['defaults', 'verify'], defaults.verify, dir),
  };
  const repos = Object.entries(isObject(raw.repos) ? raw.repos : {})
    .filter(([, repo]) => isObject(repo))
    .map(([name, repo]) => resolveRepo(r, name, repo, { dir, workdir, base }));
  checkLayout(r, repos, { file: configPath, statePath, workdir });
  // Read before secretVars is taken below: its variables are secrets too.
  const listenToken = typeof raw.listen_token === 'string' ? r.secret(['listen_token'], raw.listen_token, EMPTY_LISTEN_TOKEN).value : undefined;
  if (r.problems.length > 0) return err(r.problems);
  // A plain number is the old form: checks.
  const limits: { checks?: unknown; pipelines?: unknown } = isObject(raw.concurrency) ? raw.concurrency : { checks: raw.concurrency };
  const concurrency = typeof limits.checks === 'number' ? limits.checks : undefined;
  const pipelines = typeof limits.pipelines === 'number' ? limits.pipelines : 1;
  // One repo's secrets are no business of another repo's steps either.
  const secretVars = [...r.secretVars].sort();
  return ok({ file: configPath, statePath, workdir, concurrency, pipelines, listenToken, repos: repos.map((repo) => ({ ...repo, secretVars })) });
}

interface RepoContext {
  readonly dir: string;
  readonly workdir: string;
  readonly base: {
    intervalMs: number;
    timeoutMs: number;
    gitTimeoutMs: number;
    env: Record<string, string>;
    sshKey: string | undefined;
    knownHosts: string | undefined;
    notify: readonly NotifyTarget[];
    retry: Retry | undefined;
    skipMarkers: readonly string[];
    group: string | undefined;
    verify: VerifyConfig | undefined;
  };
}

function resolveRepo(r: Resolver, name: string, repo: RawRepo, ctx: RepoContext): RepoConfig {
  const at = (...rest: (string | number)[]): KeyPath => ['repos', name, ...rest];
  const url = typeof repo.url === 'string' ? r.text(at('url'), repo.url) : { value: '', vars: [] };
  const parsed = parseRemote(url.value, ctx.dir);
  if (!parsed.ok && typeof repo.url === 'string') r.fail(at('url'), parsed.error);
  if (parsed.ok && parsed.value.credentials) r.keepSecret(url.vars);
  const branch = r.optionalText(at('branch'), repo.branch);
  const problem = branch === undefined ? undefined : isGlob(branch) ? globProblem(branch) : branchNameProblem(branch);
  if (branch !== undefined && problem !== undefined) {
    r.fail(at('branch'), `invalid branch ${isGlob(branch) ? 'pattern' : 'name'} '${branch.slice(0, 80)}': it ${problem}`);
  }
  const tag = resolveTag(r, at, repo);
  const timeoutMs = r.duration(at('timeout'), repo.timeout, ctx.base.timeoutMs);
  const remote = parsed.ok ? parsed.value : undefined;
  return {
    name,
    remote: remote?.remote ?? url.value,
    displayUrl: remote?.display ?? url.value,
    credentials: remote?.credentials,
    secretVars: [],
    branch,
    ...tag,
    commit: typeof repo.commit === 'string' ? repo.commit : undefined,
    depth: typeof repo.depth === 'number' ? repo.depth : 1,
    submodules: repo.submodules === true,
    ssh: {
      key: optionalPath(ctx.dir, r.optionalText(at('ssh_key'), repo.ssh_key) ?? ctx.base.sshKey),
      knownHosts: optionalPath(ctx.dir, r.optionalText(at('known_hosts'), repo.known_hosts) ?? ctx.base.knownHosts),
    },
    intervalMs: r.duration(at('interval'), repo.interval, ctx.base.intervalMs, 1000),
    gitTimeoutMs: r.duration(at('git_timeout'), repo.git_timeout, ctx.base.gitTimeoutMs, 1000),
    checkout: path.resolve(ctx.dir, r.optionalText(at('checkout'), repo.checkout) ?? path.join(ctx.workdir, name)),
    env: { ...ctx.base.env, ...r.envMap(at('env'), repo.env) },
    ...resolveJobs(r, name, repo, timeoutMs),
    retry: repo.retry === undefined ? ctx.base.retry : resolveRetry(r, at('retry'), repo.retry),
    paths: Array.isArray(repo.paths) ? [...repo.paths] : undefined,
    skipMarkers: Array.isArray(repo.skip_markers) ? [...repo.skip_markers] : ctx.base.skipMarkers,
    group: typeof repo.group === 'string' ? repo.group : ctx.base.group,
    enabled: repo.enabled !== false,
    webhookSecret: typeof repo.webhook_secret === 'string' ? r.secret(at('webhook_secret'), repo.webhook_secret, EMPTY_WEBHOOK_SECRET).value : undefined,
    // A repo's list replaces the defaults' one, so a repo can also turn notifications off with `notify: []`.
    notify: repo.notify === undefined ? ctx.base.notify : resolveNotify(r, at('notify'), repo.notify),
    verify: verifyOf(r, name, repo, ctx.base.verify, ctx.dir),
  };
}

/** `tag` instead of `branch`, optionally narrowed by a `semver` range. */
function resolveTag(r: Resolver, at: (...rest: string[]) => KeyPath, repo: RawRepo): { tag: string | undefined; semver: string | undefined } {
  const tag = r.optionalText(at('tag'), repo.tag);
  const range = r.optionalText(at('semver'), repo.semver);
  if (tag !== undefined && repo.branch !== undefined) r.fail(at('tag'), `a repo follows a branch or a tag, not both: remove 'branch' or 'tag'`, true);
  const problem = tag === undefined ? undefined : globProblem(tag);
  if (tag !== undefined && problem !== undefined) r.fail(at('tag'), `invalid tag pattern '${tag.slice(0, 80)}': it ${problem}`);
  if (range !== undefined && tag === undefined) r.fail(at('semver'), `'semver' needs 'tag': it narrows the tags that 'tag' matches`, true);
  const bad = range === undefined ? undefined : rangeProblem(range);
  if (bad !== undefined) r.fail(at('semver'), bad);
  return { tag, semver: range };
}

/** A `pipeline` is one job without a name; `jobs` are checked for unknown needs and cycles. */
function resolveJobs(r: Resolver, name: string, repo: RawRepo, timeoutMs: number): Pick<RepoConfig, 'steps' | 'jobs' | 'maxParallel'> {
  const at = (...rest: (string | number)[]): KeyPath => ['repos', name, ...rest];
  const maxParallel = typeof repo.max_parallel === 'number' ? repo.max_parallel : DEFAULT_MAX_PARALLEL;
  const steps: Step[] = [];
  const jobs: Job[] = [];
  const addSteps = (list: unknown, path: KeyPath, job: string | undefined, env: Record<string, string>): number[] =>
    (Array.isArray(list) ? (list as RawStep[]) : []).flatMap((raw, i) => {
      const step = resolveStep(r, [...path, i], raw, timeoutMs, job, env);
      if (step === undefined) return [];
      steps.push(step);
      return [steps.length - 1];
    });
  const rawJobs = isObject(repo.jobs) ? (repo.jobs as Record<string, RawJob>) : undefined;
  if (repo.pipeline !== undefined && repo.jobs !== undefined) {
    r.fail(at('jobs'), "a repo has either 'pipeline' or 'jobs', not both", true);
  } else if (repo.pipeline === undefined && repo.jobs === undefined) {
    r.fail(at(), "missing required key 'pipeline' (or 'jobs')", true);
  }
  if (rawJobs === undefined || repo.pipeline !== undefined) {
    jobs.push({ name: undefined, needs: [], steps: addSteps(repo.pipeline, at('pipeline'), undefined, {}) });
    return { steps, jobs, maxParallel };
  }
  const names = Object.keys(rawJobs);
  for (const [job, raw] of Object.entries(rawJobs)) {
    if (!isObject(raw)) continue;
    const needs = Array.isArray(raw.needs) ? raw.needs.filter((n): n is string => typeof n === 'string') : [];
    for (const [i, need] of needs.entries()) {
      if (need === job) r.fail(at('jobs', job, 'needs', i), `job '${job}' needs itself`);
      else if (!names.includes(need)) {
        const hint = closest(need, names);
        r.fail(
          at('jobs', job, 'needs', i),
          `job '${job}' needs '${need}', which is not a job of this repo${hint ? `: did you mean '${hint}'?` : ` (jobs: ${names.join(', ')})`}`,
        );
      }
    }
    const env = r.envMap(at('jobs', job, 'env'), raw.env);
    jobs.push({ name: job, needs, steps: addSteps(raw.steps, at('jobs', job, 'steps'), job, env) });
  }
  for (const cycle of jobCycles(jobs)) {
    const first = cycle[0] ?? '';
    const i = jobs.find((j) => j.name === first)?.needs.indexOf(cycle[1] ?? '') ?? -1;
    r.fail(
      at('jobs', first, 'needs', Math.max(0, i)),
      `jobs ${[...cycle, first].map((j) => `'${j}'`).join(' → ')} need each other in a cycle: none of them could start`,
    );
  }
  return { steps, jobs, maxParallel };
}

/** Each cycle among the jobs' needs, once, starting at its first job in config order. Self-needs are reported apart. */
export function jobCycles(jobs: readonly Job[]): string[][] {
  const needs = new Map(jobs.map((j) => [j.name ?? '', j.needs.filter((n) => n !== j.name)]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (job: string): void => {
    state.set(job, 'open');
    stack.push(job);
    for (const need of needs.get(job) ?? []) {
      if (!needs.has(need)) continue;
      const seen = state.get(need);
      if (seen === 'open') cycles.push(stack.slice(stack.indexOf(need)));
      else if (seen === undefined) visit(need);
    }
    stack.pop();
    state.set(job, 'done');
  };
  for (const job of needs.keys()) if (!state.has(job)) visit(job);
  return cycles;
}

function resolveRetry(r: Resolver, at: KeyPath, retry: RawRetry | undefined): Retry | undefined {
  if (!isObject(retry) || typeof retry.attempts !== 'number') return undefined;
  return { attempts: retry.attempts, backoffMs: r.duration([...at, 'backoff'], retry.backoff, DEFAULT_RETRY_BACKOFF_MS, 1000) };
}

function resolveNotify(r: Resolver, at: KeyPath, list: RawNotify | undefined): NotifyTarget[] {
  const out: NotifyTarget[] = [];
  for (const [i, target] of (Array.isArray(list) ? list : []).entries()) {
    if (!isObject(target) || !Array.isArray(target.on)) continue;
    const on = [...target.on];
    if ('command' in target && typeof target.command === 'string') {
      out.push({ kind: 'command', on, command: target.command });
      continue;
    }
    if (!('url' in target) || typeof target.url !== 'string') continue;
    const { value, vars } = r.secret([...at, i, 'url'], target.url, 'expected an http:// or https:// URL');
    // The message leaves the URL out: it may hold a token.
    if (value !== '' && !/^https?:$/.test(URL.canParse(value) ? new URL(value).protocol : '')) r.fail([...at, i, 'url'], 'expected an http:// or https:// URL');
    const secrets = vars.map((name) => r.envValue(name)).filter((v): v is string => v !== undefined && v !== '');
    out.push({ kind: 'url', on, url: value, format: target.format ?? 'json', secrets });
  }
  return out;
}

function resolveStep(r: Resolver, at: KeyPath, step: RawStep, timeoutMs: number, job: string | undefined, jobEnv: Record<string, string>): Step | undefined {
  const label = (name: string): string => (job === undefined ? name : `${job}/${name}`);
  if (typeof step === 'string') return { name: step, job, label: label(step), run: step, cwd: undefined, timeoutMs, env: jobEnv, continueOnError: false };
  if (!isObject(step) || typeof step.run !== 'string') return undefined;
  if (typeof step.cwd === 'string' && (path.isAbsolute(step.cwd) || path.normalize(step.cwd).split(path.sep)[0] === '..')) {
    r.fail([...at, 'cwd'], `cwd must be a folder inside the checkout, found '${step.cwd}'`);
  }
  const name = step.name ?? step.run;
  return {
    name,
    job,
    label: label(name),
    run: step.run,
    cwd: step.cwd,
    timeoutMs: r.duration([...at, 'timeout'], step.timeout, timeoutMs),
    // The job's environment, then the step's own.
    env: { ...jobEnv, ...r.envMap([...at, 'env'], step.env) },
    continueOnError: step.continue_on_error ?? false,
  };
}

function optionalPath(dir: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : path.resolve(dir, value);
}

function isObject(v: unknown): v is Record<string, never> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `inner` is `outer` or lies inside it. Both are absolute and normalized (path.resolve): a prefix test is
 * then exact, and at 1,000 repos it is what the check costs, where path.relative took milliseconds.
 */
function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);
}

/** A checkout is discarded and rebuilt at will, so it must not hold anything that is not its own. */
function checkLayout(r: Resolver, repos: readonly RepoConfig[], given: { file: string; statePath: string; workdir: string }): void {
  const own = { file: path.resolve(given.file), statePath: path.resolve(given.statePath), workdir: path.resolve(given.workdir) };
  const reserved = Object.values(WORKDIR_LAYOUT).map((dir) => path.join(own.workdir, dir));
  // Checkouts by path, so overlaps are found by walking up each path: linear in the number of repos.
  // A pair that nests is reported once, on the inner checkout.
  const byPath = new Map<string, RepoConfig>();
  for (const repo of repos) if (!byPath.has(repo.checkout)) byPath.set(repo.checkout, repo);
  for (const repo of repos) {
    const at: KeyPath = ['repos', repo.name, 'checkout'];
    const flag = (message: string): void => r.fail(r.hasKey(at) ? at : ['repos', repo.name], message, !r.hasKey(at));
    if (isWithin(own.file, repo.checkout)) flag(`checkout ${repo.checkout} contains the config file`);
    else if (isWithin(own.statePath, repo.checkout)) flag(`checkout ${repo.checkout} contains the state file`);
    else if (isWithin(own.workdir, repo.checkout)) flag(`checkout ${repo.checkout} contains the workdir`);
    else if (reserved.some((dir) => isWithin(repo.checkout, dir))) flag(`checkout ${repo.checkout} is inside gitwatch's own folder under the workdir`);
    const same = byPath.get(repo.checkout);
    if (same !== undefined && same !== repo) {
      flag(`repos '${same.name}' and '${repo.name}' share the checkout ${repo.checkout}`);
      continue;
    }
    for (let dir = path.dirname(repo.checkout); ; dir = path.dirname(dir)) {
      const outer = byPath.get(dir);
      if (outer !== undefined) {
        flag(`checkout ${repo.checkout} is inside the checkout of repo '${outer.name}'`);
        break;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
}
