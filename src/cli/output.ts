// stdout and stderr as commands see them: a reader that goes away (`gitwatch once | head -1`, a closed
// terminal) must not kill a run half way, so after the first write error every later write is dropped.

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
    // Handed on at once, so output through this stream and the terminal keep their order.
    if (!this.broken && !this.target.destroyed) this.target.write(chunk, encoding);
    callback();
  }
}
