// `gitwatch run`: the daemon. A supervisor per repo until SIGINT/SIGTERM; the config is hot-reloaded on
// change and on SIGHUP (supervisor/reloader.ts), and a broken edit is reported while the previous config
// keeps running.

import { locateConfig } from '../config/load.js';
import { watchConfigFile } from '../config/watch.js';
import { EXIT, type ExitCode } from '../errors.js';
import { Reloader } from '../supervisor/reloader.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { loadForCommand } from './config-input.js';
import type { CommandContext } from './context.js';
import { withStateSession } from './session.js';

export async function runCommand(ctx: CommandContext): Promise<ExitCode> {
  const loaded = await loadForCommand(ctx);
  const location = locateConfig(ctx.global.config, ctx.cwd, ctx.env);
  return withStateSession(ctx, loaded.config, async (deps) => {
    const { reporter } = deps;
    const supervisor = new Supervisor(loaded.config, { ...deps, random: ctx.random });
    reporter.emit({ type: 'daemon-started', repos: loaded.config.repos.map((r) => r.name), pid: ctx.processes.pid });
    const reloader = new Reloader({
      file: location.file,
      absolutePath: location.absolutePath,
      text: loaded.text,
      supervisor,
      reporter,
      clock: ctx.clock,
      env: ctx.env,
      signal: ctx.signal,
    });
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
