// `gitwatch run`: the daemon. A supervisor per repo until SIGINT/SIGTERM; the config is hot-reloaded on
// change and on SIGHUP (supervisor/reloader.ts), a broken edit is reported while the previous config keeps
// running, and the control socket (kept by control-socket.ts) answers `status`, `trigger`, `pause`, `resume`
// and `cancel`.

import { locateConfig } from '../config/locate.js';
import { watchConfigFile, watchFiles, type ConfigWatcher } from '../config/watch.js';
import type { ResolvedConfig } from '../config/types.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { parseListen } from '../http/address.js';
import { Reloader } from '../supervisor/reloader.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { loadForCommand } from './config-input.js';
import type { CommandContext } from './context.js';
import { keepControlSocket } from './control-socket.js';
import { daemonControl } from './daemon-control.js';
import { withDaemonSession } from './session.js';

export interface RunOptions {
  /** `--listen HOST:PORT`. */
  readonly listen?: string | undefined;
}

export async function runCommand(ctx: CommandContext, options: RunOptions = {}): Promise<ExitCode> {
  const address = options.listen === undefined ? undefined : parseListen(options.listen);
  if (address?.ok === false) throw new UsageError(address.error);
  const loaded = await loadForCommand(ctx);
  const location = locateConfig(ctx.global.config, ctx.cwd, ctx.env);
  return withDaemonSession(ctx, loaded.config, async (session, { activity }) => {
    // Bound before any worker starts: a port in use stops the daemon before it does anything.
    const listener = address?.ok ? await (await import('./listen.js')).openListener(address.value, session, loaded.config) : undefined;
    const deps = listener?.deps ?? session;
    const reporter = deps.reporter;
    const startedAt = ctx.clock.now();
    const supervisor = new Supervisor(loaded.config, { ...deps, reporter, random: ctx.random });
    const parts = {
      supervisor,
      activity,
      // Between the signal and the end of the running steps, `status` says the daemon is stopping.
      stopping: () => ctx.signal.aborted,
      state: deps.state,
      info: { pid: ctx.processes.pid, startedAt: startedAt.toISOString(), config: location.absolutePath },
    };
    listener?.attach(parts);
    reporter.emit({ type: 'daemon-started', repos: loaded.config.repos.map((r) => r.name), pid: ctx.processes.pid });
    if (listener) reporter.emit({ type: 'listening', url: listener.url });
    const control = await keepControlSocket(ctx, loaded.config.statePath, daemonControl(parts));
    // The key files `verify:` names are watched too: an edited key file reloads like an edited config. The
    // set is that of the config that parsed last, applied or not: a key file that a rejected config names
    // reloads again once it is created or fixed.
    let keyFiles = keyFilesOf(loaded.config);
    let keyWatcher: ConfigWatcher | undefined;
    let closing = false;
    const watchKeys = (config: ResolvedConfig): void => {
      const next = keyFilesOf(config);
      if (closing || (keyWatcher !== undefined && next.join('\0') === keyFiles.join('\0'))) return;
      keyFiles = next;
      // The new watch first: an edit between the two is seen by one of them.
      const previous = keyWatcher;
      keyWatcher = watchFiles(keyFiles, () => reloader.schedule(false, true));
      void previous?.close();
    };
    const reloader = new Reloader({
      file: location.file,
      absolutePath: location.absolutePath,
      text: loaded.text,
      supervisor,
      reporter,
      clock: ctx.clock,
      env: ctx.env,
      signal: ctx.signal,
      onParsed: watchKeys,
    });
    const watcher = watchConfigFile(location.absolutePath, () => reloader.schedule(false));
    watchKeys(loaded.config);
    const offHangup = ctx.onHangup(() => {
      reloader.schedule(true);
      control.hangup();
    });
    try {
      await supervisor.finished();
    } finally {
      await listener?.close();
      offHangup();
      await watcher.close();
      closing = true;
      await keyWatcher?.close();
      await control.close();
      reporter.emit({ type: 'daemon-stopped' });
    }
    return EXIT.ok;
  });
}

/** Every key file the config's `verify:` keys name, once each, sorted. */
function keyFilesOf(config: ResolvedConfig): string[] {
  return [...new Set(config.repos.flatMap((repo) => repo.verify?.files.map((f) => f.path) ?? []))].sort();
}
