// gitwatch's git commands. Each runs against gitwatch's own git store (never a checkout's .git, which steps
// may rewrite), with a hard time limit and the isolated environment of git-env.ts. They run through the
// process-group runner (runtime/process-group.ts, the one steps use too), so stopping one stops its
// helpers; not through simple-git, which waits 50 ms after every command that prints nothing (a checkout
// took ten times longer). Why the runner is node:child_process and not execa is measured in its header.

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isSha, type Env } from '../domain.js';
import { GitError } from '../errors.js';
import { classifyGitFailure } from './classify.js';
import { branchNameProblem } from '../rules/ref-name.js';
import { gitEnv, type Keyring } from './git-env.js';
import { readSignatureCheck, TAG_REF, type SignatureCheck, type SignedObject } from './signature.js';
import { CHECK_MEMORY_MIB, runGitProcess, tooMuchFromRemote, type GitProcessResult } from './git-process.js';
import type { HttpRefReader } from './http-refs.js';
import { localPath, readLocalRefs } from './local-refs.js';
import { SshMasters } from './ssh-master.js';
import type { Changes, GitCallOptions, Remote, RemoteHead } from './remote.js';
import { sweepStaleLocks } from './store-locks.js';
import { GitSslSettings } from './ssl-verify-config.js';
import { writeStepGitDir } from './step-git-dir.js';
import { lsRemotePatterns, parseLsRemote, type RefListing, type RefPatterns } from './refs.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import type { ProcessGroups } from '../runtime/processes.js';
import { spawnFailure } from '../runtime/spawn-failure.js';
import { looseCommitMessage } from './loose-object.js';
import { mayHaveUntracked } from './untracked.js';

export type { Changes, GitCallOptions, Remote, RemoteHead } from './remote.js';

/** Remotes git reaches over http(s): the ones its `http.*` settings apply to. */
const HTTP_URL = /^https?:\/\//i;
const TARGET_REF = 'refs/gitwatch/target';
/** The lock's commit, fetched for a comparison in a shallow store. */
const PREVIOUS_REF = 'refs/gitwatch/previous';
/** The head, fetched deeper for a comparison in a shallow store. */
const DEEPEN_REF = 'refs/gitwatch/deepen';
/** How deep `changes` fetches `to`'s history, step by step, looking for `from` in a shallow store. */
const DEEPEN_STEPS = [64, 512, 4096] as const;
/** Where `gitwatch plan` fetches, so it never moves the ref a daemon's checkout is made from. */
export const PLAN_REF = 'refs/gitwatch/plan';

export interface GitClientOptions {
  /** False: every check is a `git ls-remote` (tests compare the two). */
  readonly inProcess?: boolean;
  /** Told once per host and reason when a remote that could be asked in-process is asked by git instead. */
  readonly onFallback?: (origin: string, reason: string) => void;
}

export class GitClient {
  /** The environment per remote's credentials and SSH settings, built once: it is the same for every call. */
  private readonly envs = new Map<string, Record<string, string>>();
  /** Stores cleared of a killed gitwatch's lock files, once per process. */
  private readonly swept = new Set<string>();
  /** Loaded with the first HTTP remote: node:http, node:https and the protocol code cost start-up time otherwise. */
  private http: Promise<typeof import('./http-refs.js')> | undefined;
  private httpReader: HttpRefReader | undefined;
  private readonly ssh: SshMasters;
  private readonly toldFallback = new Set<string>();
  /** The operator's `http.sslVerify` keys, read with the first http(s) remote (most setups never have one). */
  private ssl: Promise<GitSslSettings> | undefined;

  constructor(
    private readonly env: Env,
    /** Each git command's process group is registered here while it runs, so a hard exit kills it too. */
    private readonly groups: ProcessGroups,
    private readonly clock: Clock = systemClock,
    private readonly options: GitClientOptions = {},
  ) {
    this.ssh = new SshMasters(gitEnv(env), groups, clock);
  }

  private sslSettings(): Promise<GitSslSettings> {
    this.ssl ??= GitSslSettings.read(this.env, this.groups, this.clock);
    return this.ssl;
  }

  private async envFor(remote: Remote | undefined, sshControl?: string): Promise<Record<string, string>> {
    const url = remote?.credentials ? remote.url : undefined;
    const sslVerify = remote !== undefined && HTTP_URL.test(remote.url) ? (await this.sslSettings()).entries : undefined;
    const key = JSON.stringify([remote?.credentials ?? null, url ?? null, remote?.ssh ?? null, sshControl ?? null, sslVerify ?? null]);
    let env = this.envs.get(key);
    if (env === undefined) {
      env = gitEnv(this.env, { credentials: remote?.credentials, url, ssh: remote?.ssh, sshControl, sslVerify });
      this.envs.set(key, env);
    }
    return env;
  }

  /** `memoryLimitMiB`: see git-process.ts; a command so limited that ran out of it failed on the remote's flood. */
  async run(args: readonly string[], context: string, call: GitCallOptions, remote?: Remote, sshControl?: string, memoryLimitMiB?: number): Promise<string> {
    const outcome = await this.exec(args, context, call, remote, sshControl, memoryLimitMiB);
    if (outcome.code === 0) return outcome.stdout;
    throw classifyGitFailure(outcome.stderr || `git exited with code ${outcome.code ?? '?'}`, context);
  }

  /** One git command that ran to its end; one that was stopped or could not start is an error. */
  private async exec(
    args: readonly string[],
    context: string,
    call: GitCallOptions,
    remote?: Remote,
    sshControl?: string,
    memoryLimitMiB?: number,
    env?: Record<string, string>,
  ): Promise<GitProcessResult> {
    const outcome = await runGitProcess(args, {
      env: env ?? (await this.envFor(remote, sshControl)),
      timeoutMs: call.timeoutMs,
      signal: call.signal,
      groups: this.groups,
      clock: this.clock,
      memoryLimitMiB,
    });
    if (outcome.stopped === 'aborted' || (outcome.stopped === undefined && call.signal?.aborted)) throw new GitError('aborted', `${context}: stopped`);
    if (outcome.stopped === 'timeout') throw new GitError('timeout', `${context}: git timed out after ${Math.round(call.timeoutMs / 1000)}s`);
    const flood = memoryLimitMiB === undefined ? undefined : tooMuchFromRemote(outcome, context, memoryLimitMiB);
    if (flood !== undefined) throw flood;
    if (outcome.stopped !== undefined) throw new GitError('other', `${context}: git printed more output than gitwatch reads`);
    if (outcome.spawnError !== undefined) throw new GitError('other', `${context}: cannot start git: ${spawnFailure(outcome.spawnError)}`);
    return outcome;
  }

  /** A bare store that only gitwatch writes: fetch target and index for the checkout. */
  async ensureStore(store: string, call: GitCallOptions, options: { sweep?: boolean } = {}): Promise<void> {
    // `plan` runs beside a daemon whose git may hold those locks right now: only the instance-lock holder sweeps.
    if (options.sweep !== false && !this.swept.has(store)) {
      this.swept.add(store);
      await sweepStaleLocks(store, [TARGET_REF, PREVIOUS_REF, DEEPEN_REF, TAG_REF]);
    }
    // A stat instead of a git process on every check; a store that was deleted is made again.
    if (existsSync(path.join(store, 'HEAD')) && existsSync(path.join(store, 'objects'))) return;
    // Owner-only, whichever command makes it first (and the workdir with it): made here, not by git with the
    // umask; `--shared=0600` keeps everything git writes in it later (objects, packs, the index) the same.
    await mkdir(store, { recursive: true, mode: 0o700 });
    await this.run(['init', '--quiet', '--bare', '--template=', '--shared=0600', store], `git init ${store}`, call);
  }

  /**
   * The remote's refs that start with one of `patterns`, with HEAD's symref when `HEAD` is asked for. Local
   * repositories are read from their files and smart-HTTP remotes asked from here, where that is exact;
   * everything else, and whatever those cannot read, is asked by `git ls-remote`.
   */
  async listRefs(store: string, remote: Remote, patterns: RefPatterns, call: GitCallOptions): Promise<RefListing> {
    if (call.signal?.aborted) throw new GitError('aborted', `checking ${remote.url}: stopped`);
    if (this.options.inProcess !== false) {
      const local = localPath(remote.url);
      if (local !== undefined) {
        const listing = readLocalRefs(local, patterns);
        if (listing !== undefined) return listing;
      } else if (HTTP_URL.test(remote.url)) {
        const listing = await this.listHttp(remote, patterns, call);
        if (listing !== undefined) return listing;
      }
    }
    // Only git needs the store for a check; an in-process one leaves it to the first fetch.
    await this.ensureStore(store, call);
    const args = [`--git-dir=${store}`, 'ls-remote', '--symref', '--end-of-options', remote.url, ...lsRemotePatterns(patterns)];
    const ask = async (control: string | undefined): Promise<RefListing> =>
      // git reads a remote's whole ref advertisement into memory before it prints a line: capped, so that a
      // remote that never stops fails the check instead of growing git until `git_timeout`.
      parseLsRemote(await this.run(args, `checking ${remote.url}`, call, remote, control, CHECK_MEMORY_MIB), patterns);
    return this.options.inProcess === false ? ask(undefined) : this.ssh.with(remote.url, remote.ssh, call.timeoutMs / 2, ask, call.signal);
  }

  private async listHttp(remote: Remote, patterns: RefPatterns, call: GitCallOptions): Promise<RefListing | undefined> {
    if (!URL.canParse(remote.url)) return undefined;
    const url = new URL(remote.url);
    this.http ??= import('./http-refs.js');
    const { HttpRefReader, UseGit } = await this.http;
    this.httpReader ??= new HttpRefReader(this.env, this.clock);
    const why = this.httpReader.unsupported(url);
    if (why !== undefined) return this.fallBack(url, why);
    if (url.protocol === 'https:' && !(await (await this.sslSettings()).verifies(remote.url))) {
      return this.fallBack(url, "http.sslVerify is false for it in git's config");
    }
    try {
      return await this.httpReader.list(remote.url, patterns, {
        credentials: remote.credentials,
        timeoutMs: call.timeoutMs,
        signal: call.signal,
        context: `checking ${remote.url}`,
      });
    } catch (error) {
      if (error instanceof UseGit) return this.fallBack(url, error.message);
      throw error;
    }
  }

  /** Says once per host and reason that git asks instead. */
  private fallBack(url: URL, why: string): undefined {
    const key = `${url.protocol}//${url.host} ${why}`;
    if (!this.toldFallback.has(key)) {
      this.toldFallback.add(key);
      this.options.onFallback?.(`${url.protocol}//${url.host}`, why);
    }
    return undefined;
  }

  /** Ends what outlives a check: kept-alive connections, SSH masters and their folders; a master keeps the process alive till then. */
  async close(): Promise<void> {
    this.httpReader?.close();
    await this.ssh.close();
  }

  /** The remote's head of `branch` (or of its default branch), without fetching. */
  async lsRemote(store: string, remote: Remote, branch: string | undefined, call: GitCallOptions): Promise<RemoteHead> {
    const listing = await this.listRefs(store, remote, branch === undefined ? ['HEAD'] : [`refs/heads/${branch}`], call);
    if (branch !== undefined) {
      const sha = listing.refs.get(`refs/heads/${branch}`);
      if (sha === undefined) throw new GitError('branch-missing', `checking ${remote.url}: branch '${branch}' not found on the remote`);
      return { sha, branch };
    }
    const symref = listing.head;
    const sha = listing.refs.get('HEAD');
    if (sha === undefined || symref === undefined || !symref.startsWith('refs/heads/')) {
      throw new GitError('branch-missing', `checking ${remote.url}: the remote has no default branch (it may be empty); set 'branch:' in the config`);
    }
    const name = symref.slice('refs/heads/'.length);
    // The name comes from the remote: it reaches steps only as GITWATCH_BRANCH, and only if git would accept it.
    const problem = branchNameProblem(name);
    if (problem !== undefined) throw new GitError('invalid-name', `checking ${remote.url}: the remote's default branch name is invalid: it ${problem}`);
    return { sha, branch: name };
  }

  /**
   * Fetches exactly `sha` into the store, under `ref` (`plan` keeps to a ref of its own): `depth` commits of
   * its history, or all of it with 0 (which completes a store an earlier shallow fetch left cut).
   */
  async fetch(store: string, remote: Remote, sha: string, call: GitCallOptions, ref: string = TARGET_REF, depth = 0): Promise<void> {
    assertSha(sha);
    const history = depth > 0 ? [`--depth=${depth}`] : existsSync(path.join(store, 'shallow')) ? ['--unshallow'] : [];
    const args = [
      `--git-dir=${store}`,
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-recurse-submodules',
      '--no-write-fetch-head',
      ...history,
      '--end-of-options',
      remote.url,
      `+${sha}:${ref}`,
    ];
    await this.run(args, `fetching ${remote.url}`, call, remote);
  }

  /**
   * What changed from `from` to `to` (both in the store after a fetch of `to`): whether `to` descends from
   * `from`, and the paths that differ. Renames count as both paths (`--no-renames` lists a delete and an add).
   * A `from` the store does not hold cannot be an ancestor of a fully fetched `to`: a force push.
   * In a shallow store (`depth`), given the `remote`, it fetches `from` (its commit only) and deepens `to`'s
   * history until `from` is reached, the history ends, or DEEPEN_STEPS run out (then: not a descendant).
   */
  async changes(store: string, from: string, to: string, call: GitCallOptions, remote?: Remote): Promise<Changes> {
    assertSha(from);
    assertSha(to);
    const base = [`--git-dir=${store}`];
    const shallow = remote !== undefined && existsSync(path.join(store, 'shallow'));
    let known = await this.holds(store, from, call);
    if (!known && shallow) known = await this.fetchPrevious(store, remote, from, call);
    if (!known) return { descendant: false, files: [] };
    const descendant = shallow
      ? await this.reaches(store, remote, from, to, call)
      : await this.succeeds([...base, 'merge-base', '--is-ancestor', from, to], call);
    const out = await this.run(
      [...base, 'diff-tree', '-r', '-z', '--name-only', '--no-renames', '--no-commit-id', from, to],
      `comparing ${from.slice(0, 12)}..${to.slice(0, 12)}`,
      call,
    );
    return { descendant, files: out.split('\0').filter((f) => f !== '') };
  }

  private holds(store: string, sha: string, call: GitCallOptions): Promise<boolean> {
    return this.succeeds([`--git-dir=${store}`, 'rev-parse', '--verify', '--quiet', `${sha}^{commit}`], call);
  }

  /** `from`'s commit alone, enough to diff against; false when the remote no longer has it (a force push and a gc). */
  private async fetchPrevious(store: string, remote: Remote, from: string, call: GitCallOptions): Promise<boolean> {
    try {
      await this.fetch(store, remote, from, call, PREVIOUS_REF, 1);
    } catch (error) {
      if (error instanceof GitError && (error.kind === 'aborted' || error.kind === 'timeout')) throw error;
      return false;
    }
    return this.holds(store, from, call);
  }

  /** Whether `to` descends from `from` in a shallow store, deepening `to`'s history as far as it takes. */
  private async reaches(store: string, remote: Remote, from: string, to: string, call: GitCallOptions): Promise<boolean> {
    const base = [`--git-dir=${store}`];
    for (const depth of DEEPEN_STEPS) {
      if (await this.succeeds([...base, 'merge-base', '--is-ancestor', from, to], call)) return true;
      // The commits from `to` back to `from` (or to the roots): if none is cut short, the answer is final.
      const walked = await this.run([...base, 'rev-list', to, `^${from}`], `walking ${to.slice(0, 12)}`, call);
      const cut = new Set((await readFile(path.join(store, 'shallow'), 'utf8').catch(() => '')).split('\n').filter((line) => line !== '' && line !== from));
      if (!walked.split('\n').some((sha) => cut.has(sha))) return false;
      // A ref of its own: `plan` compares too, and must not move the ref the checkout is made from.
      await this.fetch(store, remote, to, call, DEEPEN_REF, depth);
    }
    return this.succeeds([...base, 'merge-base', '--is-ancestor', from, to], call);
  }

  /** Commits in `to` that `from` lacks; `to` must descend from `from`. */
  async countCommits(store: string, from: string, to: string, call: GitCallOptions): Promise<number> {
    assertSha(from);
    assertSha(to);
    const out = await this.run([`--git-dir=${store}`, 'rev-list', '--count', `${from}..${to}`], `counting ${from.slice(0, 12)}..${to.slice(0, 12)}`, call);
    return Number(out.trim());
  }

  /** The full message of commit `sha`, which the store holds. */
  async message(store: string, sha: string, call: GitCallOptions): Promise<string> {
    assertSha(sha);
    const loose = await looseCommitMessage(store, sha);
    return loose ?? this.run([`--git-dir=${store}`, 'log', '-1', '--format=%B', sha], `reading the message of ${sha.slice(0, 12)}`, call);
  }

  /**
   * Whether `object` (which the store holds) carries a good signature by one of `keyring`'s keys, and if
   * not, why not: git's own verify-commit or verify-tag, with only that keyring in reach (git-env.ts).
   */
  async verifySignature(store: string, object: SignedObject, keyring: Keyring, call: GitCallOptions): Promise<SignatureCheck> {
    assertSha(object.sha);
    const args = [`--git-dir=${store}`, `verify-${object.kind}`, '--raw', object.sha];
    const env = gitEnv(this.env, { keyring });
    const outcome = await this.exec(args, `verifying the signature of ${object.kind} ${object.sha.slice(0, 12)}`, call, undefined, undefined, undefined, env);
    return readSignatureCheck(outcome.code, outcome.stderr);
  }

  /** Runs a git command whose exit code is the answer: 0 yes, 1 no; anything else is an error. */
  private async succeeds(args: readonly string[], call: GitCallOptions): Promise<boolean> {
    const context = `git ${args[1]}`;
    const outcome = await this.exec(args, context, call);
    if (outcome.code === 0 || outcome.code === 1) return outcome.code === 0;
    throw classifyGitFailure(outcome.stderr || `git exited with code ${outcome.code ?? '?'}`, context);
  }

  /**
   * Removes what the last run left in `worktree` (untracked and ignored files), before a fetch needs the
   * space: a step that filled the disk inside its checkout would otherwise make every later fetch or
   * checkout fail before anything could free it. Returns the paths removed (folders once).
   */
  async clean(store: string, worktree: string, call: GitCallOptions): Promise<string[]> {
    if ((await stat(worktree).catch(() => undefined))?.isDirectory() !== true || !(await mayHaveUntracked(store, worktree))) return [];
    // The checkout's own .git is rebuilt on every run; it is not something the last run left.
    const args = [`--git-dir=${store}`, `--work-tree=${worktree}`, 'clean', '-ffdx', '--exclude=/.git'];
    const out = await this.run(args, `cleaning ${worktree}`, call);
    return out
      .split('\n')
      .filter((line) => line.startsWith('Removing '))
      .map((line) => line.slice('Removing '.length));
  }

  /**
   * Packs the store and drops every object no ref reaches: each fetch leaves the previous commit's objects
   * behind, and a store that is never compacted grows by every commit's size. Only the daemon calls it,
   * never while the same repo fetches.
   */
  async compact(store: string, call: GitCallOptions): Promise<void> {
    // The checkouts log HEAD's moves in the store; those entries would keep every old commit alive.
    const expire = ['-c', 'gc.reflogExpire=now', '-c', 'gc.reflogExpireUnreachable=now'];
    await this.run([`--git-dir=${store}`, ...expire, 'gc', '--prune=now', '--quiet'], `compacting ${store}`, call);
    // Submodules' stores (submodules.ts) live inside it and grow the same way.
    const modules = path.join(store, 'modules');
    for (const name of await readdir(modules).catch(() => [] as string[])) {
      if (name.endsWith('.git')) await this.compact(path.join(modules, name), call);
    }
  }

  /** Makes `worktree` exactly `sha`, tracked files reset; `clean` has removed everything else before. */
  async checkout(store: string, worktree: string, sha: string, call: GitCallOptions): Promise<void> {
    assertSha(sha);
    await mkdir(worktree, { recursive: true });
    const base = [`--git-dir=${store}`, `--work-tree=${worktree}`];
    await this.run([...base, 'checkout', '--quiet', '--force', '--detach', sha], `checking out ${sha.slice(0, 12)}`, call);
    await writeStepGitDir(store, worktree, sha);
  }
}

function assertSha(sha: string): void {
  if (!isSha(sha)) throw new GitError('invalid-name', `refusing to pass '${sha.slice(0, 80)}' to git: not a commit id`);
}
