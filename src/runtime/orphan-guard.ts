// Kills gitwatch's child process groups when gitwatch itself dies, even by `kill -9`, which no handler
// sees. A tiny shell started with gitwatch reads "+PGID" and "-PGID" lines on a pipe; when the pipe
// closes (gitwatch is gone, however it went) it SIGKILLs the groups still listed. Steps and git run in
// groups of their own, so nothing else would stop them.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** Where group starts and ends are announced. */
export interface GroupSink {
  add(pgid: number): void;
  remove(pgid: number): void;
}

// Plain sh builtins: the guard must start fast and need nothing installed. dash's kill takes a negative
// pid only as `kill -s KILL -- -PGID`.
const SCRIPT = [
  "g=' '",
  'while IFS= read -r l; do',
  '  case $l in',
  '    +*) g="$g${l#+} " ;;',
  '    -*) p=${l#-}; case $g in *" $p "*) g="${g%% $p *} ${g#* $p }" ;; esac ;;',
  '  esac',
  'done',
  'for p in $g; do kill -s KILL -- "-$p" 2>/dev/null; done',
].join('\n');

export class OrphanGuard implements GroupSink {
  private child: ChildProcess | undefined;
  private broken = false;

  /** Started on the first group: commands that run nothing (status, validate) never pay for it. */
  private pipe(): Socket | undefined {
    if (this.broken) return undefined;
    if (this.child === undefined) {
      // Its own session: a Ctrl-C to gitwatch's terminal group must not kill the guard first.
      const child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      child.on('error', () => (this.broken = true));
      child.stdin?.on('error', () => (this.broken = true));
      // Neither the guard nor its pipe keeps gitwatch alive; gitwatch's exit closes the pipe.
      child.unref();
      (child.stdin as Socket | null)?.unref();
      this.child = child;
    }
    return (this.child.stdin as Socket | null) ?? undefined;
  }

  add(pgid: number): void {
    this.pipe()?.write(`+${pgid}\n`);
  }

  remove(pgid: number): void {
    if (this.child !== undefined) this.pipe()?.write(`-${pgid}\n`);
  }
}
