// The real gitwatch as a child process (`run`, or any command a test must signal while it works), with its
// output collected and a guaranteed stop.

import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { BIN } from './cli.js';
import type { Project } from './project.js';

export interface Daemon {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Waits until `probe` returns true (polled), or fails with the daemon's output. */
  until(probe: () => boolean | Promise<boolean>, what: string, limitMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

export interface StartOptions {
  /** `ulimit -n`: the most file descriptors the process may hold. */
  readonly fdLimit?: number;
}

export function startDaemon(t: TestContext, project: Project, args: string[] = [], options: StartOptions = {}): Daemon {
  return startGitwatch(t, project, ['run', ...args], options);
}

/** `gitwatch ARGS...`, killed with SIGKILL when the test ends if it is still running. */
export function startGitwatch(t: TestContext, project: Project, args: readonly string[], options: StartOptions = {}): Daemon {
  const argv = [process.execPath, BIN, ...args];
  // The shell sets the limit and then becomes gitwatch (exec): the pid is gitwatch's.
  const [file = '', ...rest] = options.fdLimit === undefined ? argv : ['/bin/sh', '-c', `ulimit -n ${options.fdLimit} && exec "$@"`, 'sh', ...argv];
  const child = spawn(file, rest, { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    until: async (probe, what, limitMs = 15_000) => {
      const end = Date.now() + limitMs;
      // A probe that throws (the state file not written yet) has simply not seen it yet.
      let last: unknown;
      while (Date.now() < end) {
        try {
          if (await probe()) return;
        } catch (error) {
          last = error;
        }
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const lastError = last === undefined ? '' : `\n--- the probe last threw\n${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`timed out waiting for ${what}${lastError}\n--- stdout\n${out}\n--- stderr\n${err}`);
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
