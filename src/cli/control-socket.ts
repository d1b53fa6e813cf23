// The daemon's control socket, kept: made at start, and made again when it goes missing (a person or a
// cleanup of the folder removed it), found by a stat every 5 s on the daemon's clock and at once on
// SIGHUP. Without its socket the daemon still does its work; stderr says why commands cannot reach it.

import { controlServer, type ControlHandler } from '../control/server.js';
import type { CommandContext } from './context.js';

/** How often the socket file is looked at. */
export const SOCKET_CHECK_MS = 5_000;

export interface KeptControlSocket {
  /** Looks at the socket now (SIGHUP). */
  hangup(): void;
  close(): Promise<void>;
}

export async function keepControlSocket(ctx: CommandContext, statePath: string, handler: ControlHandler): Promise<KeptControlSocket> {
  const server = controlServer(statePath, handler);
  const unreachable = 'status, trigger, pause and cancel cannot reach this daemon';
  /** The last failure said, so one that repeats every 5 s is said once. */
  let said: string | undefined;
  const check = async (first: boolean): Promise<void> => {
    try {
      const made = await server.ensure();
      if (made && !first) ctx.stderr.write(`gitwatch: the control socket ${server.path} was gone; made it again\n`);
      said = undefined;
    } catch (error) {
      const why = (error as Error).message;
      if (why === said) return;
      said = why;
      ctx.stderr.write(
        first
          ? `gitwatch: no control socket at ${server.path} (${why}); ${unreachable}\n`
          : `gitwatch: cannot make the control socket ${server.path} again (${why}); ${unreachable} until it can\n`,
      );
    }
  };
  await check(true);
  const stop = new AbortController();
  const watching = (async () => {
    while (!stop.signal.aborted) {
      await ctx.clock.sleep(SOCKET_CHECK_MS, stop.signal);
      if (!stop.signal.aborted) await check(false);
    }
  })();
  return {
    hangup: () => void check(false),
    close: async () => {
      stop.abort();
      await watching;
      await server.close();
    },
  };
}
