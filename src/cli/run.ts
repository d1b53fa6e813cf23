// `gitwatch run`: the daemon. A supervisor per repo until SIGINT/SIGTERM; the config is hot-reloaded on
// change and on SIGHUP, and a broken edit is reported while the previous config keeps running.

import { readFile } from 'node:fs/promises';
import { locateConfig } from '../config/load.js';
import { parseConfig } from '../config/parse.js';
import type { ResolvedConfig } from '../config/types.js';
import { watchConfigFile } from '../config/watch.js';
import { ConfigError, EXIT, type ExitCode } from '../errors.js';
import type { Reporter } from '../runtime/events.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { loadForCommand } from './config-input.js';
import type { CommandContext } from './context.js';
import { withStateSession } from './session.js';

/** Editors write in bursts; wait for the burst to end before reading. */
const DEBOUNCE_MS = 150;

export async function runCommand(ctx: CommandContext): Promise<ExitCode> {
  const loaded = await loadForCommand(ctx);
  const location = locateConfig(ctx.global.config, ctx.cwd, ctx.env);
  return withStateSession(ctx, loaded.config, async (deps) => {
    const { reporter } = deps;
    const supervisor = new Supervisor(loaded.config, { ...deps, random: Math.random });
    reporter.emit({ type: 'daemon-started', repos: loaded.config.repos.map((r) => r.name), pid: process.pid });
    const reloader = new Reloader(location.file, location.absolutePath, loaded.text, supervisor, reporter, ctx);
    const watcher = watchConfigFile(location.absolutePath, () => reloader.schedule(false));
    const offHangup = ctx.onHangup(() => reloader.schedule(true));
    ctx.signal.addEventListener('abort', () => reporter.emit({ type: 'daemon-stopping', signal: ctx.signalName() }), { once: true });
    try {
      await supervisor.finished();
    } finally {
      offHangup();
      await watcher.close();
      reporter.emit({ type: 'daemon-stopped' });
    }
    return EXIT.ok;
  });
}

class Reloader {
  private pending: AbortController | undefined;
  private forced = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly absolutePath: string,
    private text: string,
    private readonly supervisor: Supervisor,
    private readonly reporter: Reporter,
    private readonly ctx: CommandContext,
  ) {}

  /** Debounced; a forced reload (SIGHUP) stays forced when file events arrive during the debounce. */
  schedule(force: boolean): void {
    if (this.ctx.signal.aborted) return;
    this.forced ||= force;
    this.pending?.abort();
    const pending = new AbortController();
    this.pending = pending;
    void this.ctx.clock.sleep(DEBOUNCE_MS, pending.signal).then(() => {
      if (pending.signal.aborted) return;
      const forced = this.forced;
      this.forced = false;
      this.running = this.running.then(() => this.reload(forced)).catch((err: unknown) => {
        this.ctx.stderr.write(`gitwatch: reload failed: ${(err as Error).message}\n`);
      });
    });
  }

  private async reload(force: boolean): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.absolutePath, 'utf8');
    } catch (err) {
      // Mid-swap (a ConfigMap update, a rename-save) the file can be briefly missing; the next event retries.
      if (force) this.ctx.stderr.write(`gitwatch: cannot read config ${this.file}: ${(err as Error).message}\n`);
      return;
    }
    if (text === this.text && !force) return;
    this.text = text;
    const result = parseConfig(text, { file: this.file, absolutePath: this.absolutePath, env: this.ctx.env });
    if (!result.ok) {
      const error = new ConfigError(result.diagnostics, text);
      this.ctx.stderr.write(`${error.format()}\n`);
      this.reporter.emit({ type: 'config-rejected', problems: result.diagnostics.length });
      return;
    }
    const moved = movedPaths(this.supervisor.config, result.config);
    if (moved !== undefined) {
      this.ctx.stderr.write(`gitwatch: ${this.file}: ${moved} changed; restart gitwatch to apply it\n`);
      this.reporter.emit({ type: 'config-rejected', problems: 1 });
      return;
    }
    this.reporter.emit({ type: 'config-reloaded', ...this.supervisor.apply(result.config) });
  }
}

/** The state file and workdir are held for the daemon's lifetime; moving them needs a restart. */
function movedPaths(current: ResolvedConfig, next: ResolvedConfig): string | undefined {
  if (current.statePath !== next.statePath) return "'state'";
  if (current.workdir !== next.workdir) return "'workdir'";
  return undefined;
}
