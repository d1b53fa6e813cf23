// The real gitwatch in a pseudo-terminal, as a person runs it, and what that person sees: the bytes it
// prints are replayed into a headless xterm, and tests read the screen and the scrollback as text.
// util-linux `script` provides the pty: it needs no compiler, unlike node-pty on Linux. Writing to
// script's stdin types into the terminal, so "\x03" is a real Ctrl-C.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import xterm from '@xterm/headless';
import { BIN } from './cli.js';

export interface Screen {
  /** The rows on screen now, right-trimmed. */
  readonly screen: readonly string[];
  /** Scrollback and screen, from the first line to the last non-empty one. */
  readonly history: readonly string[];
}

export interface PtyProcess {
  /** Everything the terminal received so far. */
  raw(): string;
  /** Types into the terminal. */
  type(text: string): void;
  render(): Promise<Screen>;
  /** Polls the rendered terminal until `probe` holds, or fails with what is on it. */
  until(probe: (s: Screen) => boolean, what: string, limitMs?: number): Promise<Screen>;
  /** script's exit code, which is gitwatch's. */
  readonly exited: Promise<number | null>;
}

export const COLS = 120;
export const ROWS = 30;

/** Why the pty tests cannot run here, or undefined when they can. */
export function ptyUnavailable(): string | undefined {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? undefined : 'util-linux `script` is not installed: no pseudo-terminal to test in';
}

export interface PtyOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** The terminal's TERM; null leaves it unset. Default: xterm-256color. */
  readonly term?: string | null;
  /** The terminal's size; default COLS×ROWS. */
  readonly size?: { readonly cols: number; readonly rows: number };
}

export function startInPty(t: TestContext, args: readonly string[], options: PtyOptions): PtyProcess {
  const { cols, rows } = options.size ?? { cols: COLS, rows: ROWS };
  // exec: Ctrl-C must reach gitwatch itself, not a shell that dies on it first.
  const command = `stty cols ${cols} rows ${rows}; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const env: Record<string, string> = { ...options.env, TERM: options.term ?? '' };
  if (options.term === undefined) env['TERM'] = 'xterm-256color';
  if (options.term === null) delete env['TERM'];
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => chunks.push(d));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // gitwatch may outlive the pty (the daemon reloads on SIGHUP), so it goes first, by its own pid.
      for (const pid of childrenOf(child.pid ?? -1)) signal(pid, 'SIGKILL');
      child.kill('SIGKILL');
      await exited;
    }
    child.stdin.destroy();
  });
  const raw = (): string => Buffer.concat(chunks).toString('utf8');
  const render = (): Promise<Screen> => renderTerminal(raw());
  return {
    raw,
    type: (text) => void child.stdin.write(text),
    render,
    exited,
    until: async (probe, what, limitMs = 20_000) => {
      const end = Date.now() + limitMs;
      for (;;) {
        const screen = await render();
        if (probe(screen)) return screen;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the terminal shows:\n${screen.history.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Replays raw terminal output into a headless xterm of the test's size. */
export async function renderTerminal(raw: string): Promise<Screen> {
  const term = new xterm.Terminal({ cols: COLS, rows: ROWS, scrollback: 10_000, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(raw, resolve));
  const buffer = term.buffer.active;
  const all: string[] = [];
  for (let i = 0; i < buffer.length; i++) all.push(buffer.getLine(i)?.translateToString(true) ?? '');
  const screen = all.slice(buffer.baseY, buffer.baseY + ROWS);
  let last = all.length;
  while (last > 0 && all[last - 1] === '') last--;
  term.dispose();
  return { screen, history: all.slice(0, last) };
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Linux lists a process's children in /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A pid, or a process group as a negative number; gone already is fine. */
export function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}
