// The reload policy: when the config file or a key file it names changes (or on SIGHUP) read it again; a
// valid config is applied per repo, an invalid one is reported like `gitwatch validate` while the previous
// config keeps running.
// Everything it says goes through the reporter, so nothing writes behind the terminal view.

import { readFile } from 'node:fs/promises';
import { formatDiagnostics } from '../config/diagnostics.js';
import { readConfigText } from '../config/load.js';
import { narrowToShard } from '../config/shard.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Env } from '../domain.js';
import type { Clock } from '../runtime/clock.js';
import type { Reporter } from '../runtime/events.js';
import type { Supervisor } from './supervisor.js';

/** Editors write in bursts; wait for the burst to end before reading. */
const DEBOUNCE_MS = 150;

export interface ReloaderOptions {
  /** The config path as the user gave it, for messages. */
  readonly file: string;
  readonly absolutePath: string;
  /** The text the running config was read from. */
  readonly text: string;
  readonly supervisor: Supervisor;
  readonly reporter: Reporter;
  readonly clock: Clock;
  readonly env: Env;
  /** Aborted on shutdown: no reload starts after it. */
  readonly signal: AbortSignal;
  /**
   * Told every config that parsed, applied or not: the daemon watches the key files it names, so that
   * creating or fixing a key file that made a reload fail reloads again.
   */
  readonly onParsed?: ((config: ResolvedConfig) => void) | undefined;
}

export class Reloader {
  private pending: AbortController | undefined;
  private forced = false;
  /** A key file changed: the config is read again even when its own text did not change. */
  private keys = false;
  private running: Promise<void> = Promise.resolve();
  private text: string;

  constructor(private readonly options: ReloaderOptions) {
    this.text = options.text;
  }

  /**
   * Debounced; a forced reload (SIGHUP) stays forced when file events arrive during the debounce. `keys`:
   * a key file of `verify:` changed, so an unchanged config text is read again too.
   */
  schedule(force: boolean, keys = false): void {
    if (this.options.signal.aborted) return;
    this.forced ||= force;
    this.keys ||= keys;
    this.pending?.abort();
    const pending = new AbortController();
    this.pending = pending;
    void this.options.clock.sleep(DEBOUNCE_MS, pending.signal).then(() => {
      // Shutdown during the wait: the daemon is closing its watchers, and nothing may apply a config now.
      if (pending.signal.aborted || this.options.signal.aborted) return;
      const forced = this.forced;
      const keys = this.keys;
      this.forced = false;
      this.keys = false;
      this.running = this.running
        .then(() => this.reload(forced, keys))
        .catch((error: unknown) => this.reject(1, `gitwatch: reload failed: ${(error as Error).message}`));
    });
  }

  /** Resolves when no reload is waiting or running: for tests. */
  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.running) {
      seen = this.running;
      await seen;
    }
  }

  private async reload(force: boolean, keyFilesChanged: boolean): Promise<void> {
    const { file, absolutePath, supervisor, reporter, env } = this.options;
    let text: string;
    try {
      text = await readFile(absolutePath, 'utf8');
    } catch (error) {
      // Mid-swap (a ConfigMap update, a rename-save) the file can be briefly missing; the next event retries.
      if (force) this.reject(1, `gitwatch: cannot read config ${file}: ${(error as Error).message}`);
      return;
    }
    if (text === this.text && !force && !keyFilesChanged) return;
    this.text = text;
    const result = await readConfigText(text, { file, absolutePath, env }, this.options.onParsed);
    if (!result.ok) return this.reject(result.error.length, formatDiagnostics(result.error, text));
    const moved = movedPaths(supervisor.config, result.value);
    if (moved !== undefined) return this.reject(1, `gitwatch: ${file}: ${moved} changed; restart gitwatch to apply it`);
    // A shard keeps its part across reloads: repos added to the file start on the shard their name picks.
    const next = narrowToShard(result.value, supervisor.config.shard);
    // New keys make a new keyring; one gpg will not take keeps the old config running. The old keyrings stay
    // until the next start: a check under the old config may be using one right now.
    const keys = await supervisor.deps.verifier.keyrings.prepare(next, { sweep: false });
    if (keys.length > 0) return this.reject(keys.length, formatDiagnostics(keys, text));
    reporter.emit({ type: 'config-reloaded', ...supervisor.apply(next) });
  }

  private reject(problems: number, detail: string): void {
    this.options.reporter.emit({ type: 'config-rejected', problems, detail });
  }
}

/** The state file and workdir are held for the daemon's lifetime; moving them needs a restart. */
function movedPaths(current: ResolvedConfig, next: ResolvedConfig): string | undefined {
  if (current.statePath !== next.statePath) return "'state'";
  if (current.workdir !== next.workdir) return "'workdir'";
  return undefined;
}
