// The resolved config: defaults applied, durations in milliseconds, paths absolute.

import type { Credentials, SshSettings } from '../domain.js';
import type { Shard } from '../rules/shard.js';

export interface Step {
  /** The step's own name (a command string's name is the command). */
  readonly name: string;
  /** The job it belongs to; undefined in a `pipeline`. */
  readonly job: string | undefined;
  /** What progress, logs and GITWATCH_STEP call it: `job/step` in a job, else the name. */
  readonly label: string;
  readonly run: string;
  /** The folder to run in, relative to the checkout (the pipeline joins the two); undefined: the checkout itself. */
  readonly cwd: string | undefined;
  readonly timeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
  readonly continueOnError: boolean;
}

export interface RepoConfig {
  readonly name: string;
  /** The URL git talks to, without credentials; local paths made absolute. */
  readonly remote: string;
  /** The URL as configured, credentials removed: for output, the lock and the step environment. */
  readonly displayUrl: string;
  /** Credentials taken out of an http(s) URL; handed to git through a credential helper. */
  readonly credentials: Credentials | undefined;
  /**
   * Every variable that a secret field of the config interpolated (any repo's URL credentials, webhook_secret,
   * notify URLs): kept out of steps, unless an `env:` names it.
   */
  readonly secretVars: readonly string[];
  /** SSH private key and known_hosts files (absolute), for SSH remotes. */
  readonly ssh: SshSettings;
  /** undefined: follow the remote's default branch (or `tag`). */
  readonly branch: string | undefined;
  /** Follow the highest tag matching this glob instead of a branch. */
  readonly tag: string | undefined;
  /** With `tag`: only tags whose version satisfies this range. */
  readonly semver: string | undefined;
  /** `commit:`: run this commit, fetched by its id, instead of following a branch or tag. */
  readonly commit: string | undefined;
  /** Commits of history fetched: 0 for all. */
  readonly depth: number;
  /** Check out submodules, recursively. */
  readonly submodules: boolean;
  /**
   * Set on a target of a branch glob (`site@release/1.0`): the configured repo, its pattern, and the
   * target's folder name (config/targets.ts: the branch with '/' written as '-', unless another branch has that).
   */
  readonly target?: { readonly repo: string; readonly pattern: string; readonly folder: string } | undefined;
  readonly intervalMs: number;
  readonly gitTimeoutMs: number;
  readonly checkout: string;
  readonly env: Readonly<Record<string, string>>;
  /** Every step: a `pipeline`'s in order, or each job's in turn, in config order. */
  readonly steps: readonly Step[];
  /** The jobs, in config order; a `pipeline` is one job without a name. */
  readonly jobs: readonly Job[];
  /** Jobs of this repo at the same time. */
  readonly maxParallel: number;
  readonly retry: Retry | undefined;
  /** `paths` patterns; undefined: every change runs. */
  readonly paths: readonly string[] | undefined;
  readonly skipMarkers: readonly string[];
  readonly enabled: boolean;
  /** Repos of one group never run their pipelines at the same time. */
  readonly group: string | undefined;
  /** The push webhook's shared secret (interpolated); undefined: no webhook. */
  readonly webhookSecret: string | undefined;
  /** The repo's own list, or else the defaults' one. */
  readonly notify: readonly NotifyTarget[];
  /** Signatures a head (or tag) must carry to run: the repo's own `verify`, or else the defaults' one. */
  readonly verify: VerifyConfig | undefined;
}

/** Where a setting stands in the config file, to report a problem that is found only when it is used. */
export interface ConfigPlace {
  readonly line: number;
  readonly col: number;
  /** The key path: `repos.site.verify.gpg_keys[0]`. */
  readonly path: string;
}

export type VerifyMode = 'head' | 'tag' | 'tag-and-head';

/** `verify:` resolved: what must be signed, and by which keys. */
export interface VerifyConfig {
  readonly mode: VerifyMode;
  /** OpenPGP keys (`gpg_keys`) or an SSH allowed-signers file (`ssh_allowed_signers`). */
  readonly kind: 'gpg' | 'ssh';
  /** The `verify` key the repo takes it from (its own, or the defaults'). */
  readonly at: ConfigPlace;
  /** The key files, absolute, in config order. */
  readonly files: readonly { readonly path: string; readonly at: ConfigPlace }[];
  /**
   * The keys read from `files` when the config was loaded (config/key-files.ts): what counts until the next
   * reload, whatever happens to the files meanwhile. Undefined only before that read.
   */
  readonly keys?: VerifyKeys | undefined;
}

export interface VerifyKeys {
  /** A hash of `kind` and every file's bytes: names the keyring made of them, and changes with any key. */
  readonly id: string;
  /** Each file's bytes, base64, in the order of `files`. */
  readonly contents: readonly string[];
}

export interface Job {
  /** undefined for the one job of a `pipeline`. */
  readonly name: string | undefined;
  readonly needs: readonly string[];
  /** Indexes into the repo's `steps`, in order. */
  readonly steps: readonly number[];
}

export interface Retry {
  /** Tries after the first. */
  readonly attempts: number;
  /** The first wait; doubled after each try, at most MAX_RETRY_BACKOFF_MS. */
  readonly backoffMs: number;
}

export const MAX_RETRY_BACKOFF_MS = 60 * 60_000;
export const DEFAULT_RETRY_BACKOFF_MS = 30_000;
export const DEFAULT_MAX_PARALLEL = 4;
export const DEFAULT_SKIP_MARKERS: readonly string[] = ['[skip ci]', '[ci skip]', '[gitwatch skip]'];

export type NotifyOn = 'failure' | 'success' | 'recovered';

export type NotifyTarget =
  | {
      readonly kind: 'url';
      readonly on: readonly NotifyOn[];
      /** Interpolated; may hold a token, so it is never printed. */
      readonly url: string;
      readonly format: 'json' | 'slack' | 'discord';
      /** Values of the variables interpolated into `url`: masked in any message. */
      readonly secrets: readonly string[];
    }
  | { readonly kind: 'command'; readonly on: readonly NotifyOn[]; readonly command: string };

export interface ResolvedConfig {
  /** The config path as given (made absolute, symlinks not resolved). */
  readonly file: string;
  readonly statePath: string;
  readonly workdir: string;
  /** Remote checks and fetches at once (`concurrency.checks`); undefined: sized for the machine. */
  readonly concurrency: number | undefined;
  /** Pipelines at once across repos (`concurrency.pipelines`, default 1). */
  readonly pipelines: number;
  /** `listen_token`: what the status page's actions must present; undefined: the page is read-only. A secret. */
  readonly listenToken?: string | undefined;
  readonly repos: readonly RepoConfig[];
  /** Set when narrowed to one shard (`--shard`): `repos` holds this shard's repos only. */
  readonly shard?: Shard | undefined;
}
