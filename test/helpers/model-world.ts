// The world the daemon's model test runs the real Supervisor in: remotes held in memory behind the
// GitClient's interface (pushes, force pushes, branches that come and go, failures of each kind, a remote
// whose client throws, which commit descends from which for `rollback --to`), commits signed by one of
// the model's keys or by none, and pipelines whose end the test decides (succeed, fail, hang until
// released). Time is a FakeClock; the state file is real. Everything else is the daemon's own code.

import path from 'node:path';
import { GitError, type GitErrorKind } from '../../src/errors.js';
import type { GitClient, RemoteHead } from '../../src/git/client.js';
import type { Keyring } from '../../src/git/git-env.js';
import type { RefListing } from '../../src/git/refs.js';
import type { SignatureCheck, SignedObject } from '../../src/git/signature.js';
import type { PipelineResult, PipelineRun } from '../../src/pipeline/pipeline.js';

export type StepMode = 'succeed' | 'fail' | 'hang';

interface RemoteRepo {
  readonly branches: Map<string, string>;
  failure: GitErrorKind | undefined;
  /** The client throws a plain Error for this remote: a bug, as far as gitwatch can tell. */
  throws: boolean;
}

interface Hung {
  readonly repo: string;
  readonly release: () => void;
}

/** A full SHA from a counter: later commits compare higher, so "the lock moved backwards" is a comparison. */
export function shaOf(n: number): string {
  return n.toString(16).padStart(40, '0');
}

export const INJECTED = 'injected fault';

/**
 * Who signed a commit: A and B are keys a config may name, C is a key no config names, null is no signature.
 * A keyring's id is its key's letter repeated (model-test configs are made so): the fake check reads it there.
 */
export type Signer = 'A' | 'B' | 'C' | null;

export function keyringId(key: 'A' | 'B'): string {
  return key.toLowerCase().repeat(32);
}

/** One signature check the daemon asked for: which store (repo), commit and keys, and whether it refused. */
export interface VerifyCall {
  readonly store: string;
  readonly sha: string;
  readonly keys: string;
  readonly refused: boolean;
}

export class ModelWorld {
  private commits = 0;
  private readonly remotes = new Map<string, RemoteRepo>();
  private readonly hung = new Set<Hung>();
  /** Where each commit was pushed: `url branch`. */
  private readonly origins = new Map<string, string>();
  private readonly signers = new Map<string, Signer>();
  /** Told of every signature check (the test checks that a refused head is not checked again on every poll). */
  onVerify: (call: VerifyCall) => void = () => undefined;
  readonly modes = new Map<string, StepMode>();
  /** Told at the start of every run (the test checks its rules there). */
  onRunStart: (run: PipelineRun) => void = () => undefined;
  /** Told at the end of every run, however it ended. */
  onRunEnd: (run: PipelineRun) => void = () => undefined;
  /** Bumped by everything that happens: the test waits until it stops moving. */
  activity = 0;

  remote(url: string): RemoteRepo {
    let r = this.remotes.get(url);
    if (r === undefined) {
      r = { branches: new Map(), failure: undefined, throws: false };
      this.remotes.set(url, r);
    }
    return r;
  }

  push(url: string, branch: string, signer: Signer = 'A'): string {
    const sha = shaOf(++this.commits);
    this.remote(url).branches.set(branch, sha);
    this.origins.set(sha, `${url} ${branch}`);
    this.signers.set(sha, signer);
    return sha;
  }

  signer(sha: string): Signer {
    return this.signers.get(sha) ?? null;
  }

  /** The remote and branch a commit was pushed to. */
  origin(sha: string): string | undefined {
    return this.origins.get(sha);
  }

  deleteBranch(url: string, branch: string): void {
    this.remote(url).branches.delete(branch);
  }

  head(url: string, branch: string): string | undefined {
    return this.remote(url).branches.get(branch);
  }

  branches(url: string): string[] {
    return [...this.remote(url).branches.keys()];
  }

  /** Runs that wait for release (`hang`), by repo. */
  get hanging(): number {
    return this.hung.size;
  }

  releaseAll(): void {
    for (const h of [...this.hung]) h.release();
  }

  private async ask(url: string): Promise<RemoteRepo> {
    this.activity++;
    // One turn of the event loop per git command, as a real process would take at least.
    await new Promise((resolve) => setImmediate(resolve));
    const r = this.remote(url);
    if (r.throws) throw new Error(`${INJECTED}: the client broke`);
    if (r.failure !== undefined) throw new GitError(r.failure, `checking ${url}: ${r.failure}`);
    return r;
  }

  /** A git command that asks no remote: one turn of the event loop. */
  private async local<T>(value: T): Promise<T> {
    this.activity++;
    await new Promise((resolve) => setImmediate(resolve));
    return value;
  }

  /** The GitClient's methods the daemon's turns call, over the in-memory remotes. */
  git(): GitClient {
    const listRefs = async (_store: string, remote: { url: string }, patterns: readonly string[]): Promise<RefListing> => {
      const r = await this.ask(remote.url);
      const refs = new Map<string, string>();
      for (const [branch, sha] of r.branches) {
        const ref = `refs/heads/${branch}`;
        if (patterns.some((p) => (p.endsWith('/') ? ref.startsWith(p) : p === ref || p === 'HEAD'))) refs.set(ref, sha);
      }
      return { head: 'refs/heads/main', refs, peeled: new Map() };
    };
    const fake = {
      listRefs,
      lsRemote: async (_store: string, remote: { url: string }, branch: string | undefined): Promise<RemoteHead> => {
        const r = await this.ask(remote.url);
        const name = branch ?? 'main';
        const sha = r.branches.get(name);
        if (sha === undefined) throw new GitError('branch-missing', `checking ${remote.url}: branch '${name}' missing`);
        return { sha, branch: name };
      },
      ensureStore: (): Promise<void> => this.local(undefined),
      clean: (): Promise<string[]> => this.local([]),
      fetch: async (_store: string, remote: { url: string }): Promise<void> => void (await this.ask(remote.url)),
      message: (): Promise<string> => this.local('a commit'),
      // `to` descends from `from` when both were pushed to the same remote and branch, `from` first.
      changes: (_store: string, from: string, to: string): Promise<{ descendant: boolean; files: string[] }> =>
        this.local({ descendant: this.origins.get(from) !== undefined && this.origins.get(from) === this.origins.get(to) && from <= to, files: [] }),
      verifySignature: async (store: string, object: SignedObject, keyring: Keyring): Promise<SignatureCheck> => {
        const keys = path.basename(path.dirname(keyring.gnupgHome));
        const signer = this.signer(object.sha);
        const key = keys === keyringId('A') ? 'A' : keys === keyringId('B') ? 'B' : undefined;
        const verified = signer !== null && signer === key;
        this.onVerify({ store, sha: object.sha, keys, refused: !verified });
        if (verified) return this.local({ verified: true, key: `model key ${signer}` });
        return this.local({ verified: false, problem: signer === null ? 'unsigned' : 'unknown-key', key: signer === null ? undefined : `model key ${signer}` });
      },
      checkout: (): Promise<void> => this.local(undefined),
      compact: (): Promise<void> => this.local(undefined),
      close: (): Promise<void> => Promise.resolve(),
    };
    return fake as unknown as GitClient;
  }

  /** The pipeline runner: ends as the repo's mode says; a hung run ends when released, canceled or stopped. */
  pipeline(): (run: PipelineRun) => Promise<PipelineResult> {
    return async (run) => {
      this.activity++;
      this.onRunStart(run);
      await new Promise((resolve) => setImmediate(resolve));
      const mode = this.modes.get(run.repo.target?.repo ?? run.repo.name) ?? 'succeed';
      let result: PipelineResult = mode === 'fail' ? { status: 'failed', error: "step 'deploy' exited with code 1" } : { status: 'succeeded' };
      if (mode === 'hang') {
        result = await new Promise<PipelineResult>((resolve) => {
          const hung: Hung = {
            repo: run.repo.name,
            release: () => {
              this.hung.delete(hung);
              resolve({ status: 'succeeded' });
            },
          };
          this.hung.add(hung);
          const stop = (value: PipelineResult) => () => {
            this.hung.delete(hung);
            resolve(value);
          };
          if (run.signal?.aborted) stop({ status: 'interrupted', error: 'gitwatch is stopping' })();
          run.signal?.addEventListener('abort', stop({ status: 'interrupted', error: 'gitwatch is stopping' }), { once: true });
          run.cancel?.addEventListener('abort', stop({ status: 'failed', error: 'canceled' }), { once: true });
        });
      }
      this.activity++;
      this.onRunEnd(run);
      return result;
    };
  }
}
