// stdout and stderr as commands see them: a reader that goes away (`gitwatch once | head -1`, a closed
// terminal) must not kill a run half way, so after the first write error every later write is dropped.
// A reader that is slow (`gitwatch once -v | less`) holds writes back: a write is done only when the
// target has taken it, so `writableNeedDrain` tells the reporters to pause the step (see Reporter.backlog).
// And which terminals get the live view at all.

import { Writable } from 'node:stream';

export class GuardedOutput extends Writable {
  private broken = false;

  constructor(private readonly target: NodeJS.WriteStream) {
    super({ decodeStrings: false });
    // Without a listener, EPIPE would be an uncaught 'error' event: a stack trace and a lost run.
    target.on('error', () => {
      this.broken = true;
    });
    // listr2 copies a stream's own fields to learn its size, so they live on the instance.
    for (const key of ['isTTY', 'columns', 'rows'] as const) {
      Object.defineProperty(this, key, { enumerable: true, get: () => this.target[key] });
    }
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.broken || this.target.destroyed || this.target.write(chunk, encoding)) return callback();
    // The target holds more than its buffer: later writes wait here, in order, until it drains. A target
    // that fails or closes meanwhile takes nothing more, so its wait ends too.
    const done = (): void => {
      for (const event of ['drain', 'close', 'error']) this.target.off(event, done);
      callback();
    };
    for (const event of ['drain', 'close', 'error']) this.target.on(event, done);
  }
}

/**
 * Whether `stream` can show the live view: a terminal with a size, whose TERM is set and not `dumb`. Any
 * other gets plain lines without any escape sequence, as a pipe does.
 */
export function isLiveTerminal(stream: { readonly isTTY?: boolean; readonly columns?: number; readonly rows?: number }, env: NodeJS.ProcessEnv): boolean {
  const term = env['TERM'];
  if (stream.isTTY !== true || term === undefined || term === '' || term === 'dumb') return false;
  return (stream.columns ?? 0) > 0 && (stream.rows ?? 0) > 0;
}
