// One git process: collected output, a hard time limit, and a process group of its own when groups are
// tracked, so its helpers (ssh, git-remote-https, a local upload-pack) are killed with it and nothing of
// it outlives gitwatch. Node's execFile cannot start a process in a new group, so this is spawn.

import { spawn } from 'node:child_process';
import type { ProcessGroups } from '../runtime/processes.js';

export interface GitOutcome {
  readonly stdout: string;
  readonly stderr: string;
  /** undefined on success. */
  readonly failure: 'exit' | 'timeout' | 'aborted' | 'spawn' | undefined;
  readonly message: string;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

export function spawnGit(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  groups: ProcessGroups | undefined,
): Promise<GitOutcome> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: groups !== undefined });
    const pid = child.pid;
    if (pid !== undefined) groups?.track(pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let why: GitOutcome['failure'];
    const kill = (reason: GitOutcome['failure']): void => {
      why ??= reason;
      if (pid === undefined) return;
      if (groups === undefined || !groups.signal(pid, 'SIGKILL')) child.kill('SIGKILL');
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) kill('exit');
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    const onAbort = (): void => kill('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined && groups !== undefined) {
        // git is gone; a helper it left in its group must not linger.
        if (code !== 0) groups.signal(pid, 'SIGKILL');
        groups.untrack(pid);
      }
      const failure = why ?? (spawnError ? 'spawn' : code === 0 ? undefined : 'exit');
      const message = spawnError?.message ?? `git exited with ${code ?? sig ?? '?'}`;
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), failure, message });
    });
  });
}
