// The resolved config: defaults applied, durations in milliseconds, paths absolute.

import type { Credentials, SshSettings } from '../domain.js';

export interface Step {
  readonly name: string;
  readonly run: string;
  /** Absolute folder to run in: the checkout, or `cwd` inside it. Relative to the checkout. */
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
  /** Environment variables whose values went into the URL's credentials; kept out of steps. */
  readonly secretVars: readonly string[];
  /** SSH private key and known_hosts files (absolute), for SSH remotes. */
  readonly ssh: SshSettings;
  /** undefined: follow the remote's default branch (or `tag`). */
  readonly branch: string | undefined;
  /** Follow the highest tag matching this glob instead of a branch. */
  readonly tag: string | undefined;
  /** With `tag`: only tags whose version satisfies this range. */
  readonly semver: string | undefined;
  /** Commits of history fetched: 0 for all. */
  readonly depth: number;
  /** Check out submodules, recursively. */
  readonly submodules: boolean;
  /** Set on a target of a branch glob (`site@release/1.0`): the configured repo and its pattern. */
  readonly target?: { readonly repo: string; readonly pattern: string } | undefined;
  readonly intervalMs: number;
  readonly gitTimeoutMs: number;
  readonly checkout: string;
  readonly env: Readonly<Record<string, string>>;
  readonly pipeline: readonly Step[];
  /** The push webhook's shared secret (interpolated); undefined: no webhook. */
  readonly webhookSecret: string | undefined;
  /** The repo's own list, or else the defaults' one. */
  readonly notify: readonly NotifyTarget[];
}

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
  /** Remote checks and fetches at once; undefined: sized for the machine. */
  readonly concurrency: number | undefined;
  readonly repos: readonly RepoConfig[];
}
