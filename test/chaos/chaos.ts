// Chaos run (`npm run test:chaos -- --events 200 --seed 7`): a real `gitwatch run` on a few repos while
// commits and force pushes arrive, hit at random by kill -9 (of the daemon, of a step, of a git), SIGTERM,
// SIGHUP, a second instance, config rewrites, floods of idle control connections and control clients that
// never read their answer. The daemon runs under a small fd limit (`ulimit -n`), and one repo notifies a
// receiver that accepts and never answers. After every event: the daemon is alive unless the chaos killed
// it, the state parses and no repo's commit moves backwards; after every death of the daemon: none of its
// processes (steps, git) is left and no temp file stays once a new daemon has started, and a SIGTERM is
// done within 15 s (10 s for pending notifications). At the end every repo converges on its newest commit,
// its notification reaches the healthy receiver, and the daemon holds no more descriptors than at rest.
// Exit 0 when all held; 1 with the failed check and the seed to replay it.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { readState } from '../../src/state/state-file.js';
import { BIN } from '../helpers/cli.js';
import { TestRepo } from '../helpers/git-fixtures.js';
import { testEnv } from '../helpers/temp.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200' }, seed: { type: 'string' }, repos: { type: 'string', default: '3' } } });
const EVENTS = Number(values.events);
const SEED = Number(values.seed ?? Date.now() % 1_000_000);
let seed = SEED;
/** Seeded, so a failing run replays with --seed. */
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class ChaosFailure extends Error {}
function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new ChaosFailure(what);
}

const root = await mkdtemp(path.join(tmpdir(), 'gitwatch-chaos-'));
const names = Array.from({ length: Number(values.repos) }, (_, i) => `r${i}`);
const remotes = new Map<string, TestRepo>();
/** Every head each remote has had, in order: the state's commit may only move forward in this list. */
const heads = new Map<string, string[]>();
for (const name of names) {
  const repo = await TestRepo.create(path.join(root, 'remotes', name));
  remotes.set(name, repo);
  heads.set(name, [repo.head()]);
}
/** Notification receivers on 127.0.0.1: one never answers; the other records the commits it heard of. */
const hanging: ServerResponse[] = [];
const heard = new Set<string>();
async function receiver(answer: (body: string, res: ServerResponse) => void): Promise<{ url: string; close(): void }> {
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => answer(body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
const hang = await receiver((_, res) => void hanging.push(res));
const healthy = await receiver((body, res) => {
  heard.add((JSON.parse(body) as { commit: string }).commit);
  res.writeHead(204).end();
});
/** Low enough that 64 control connections and the daemon's own descriptors do not fit. */
const FD_LIMIT = 80;
/** Connections the chaos opened to the control socket; closed at the end (the daemon should have closed them long before). */
const clients: Socket[] = [];

const project = path.join(root, 'project');
const configPath = path.join(project, 'gitwatch.yaml');
const statePath = path.join(project, '.gitwatch.lock.json');
const steps = path.join(project, 'steps.txt');
let generation = 0;
async function writeConfig(valid = true): Promise<void> {
  generation++;
  if (!valid) return writeFile(configPath, 'version: 1\nrepos:\n  r0:\n    interval: soon\n');
  const repos = Object.fromEntries(
    names.map((n) => [
      n,
      {
        url: remotes.get(n)?.url,
        interval: '1s',
        git_timeout: '10s',
        pipeline: [`echo "$GITWATCH_REPO $GITWATCH_COMMIT" >> '${steps}'`, `sleep 1.${generation % 5} # ${generation}`],
        // r0's receiver never answers, on more targets than gitwatch delivers to at once.
        notify: [
          ...(n === 'r0' ? [1, 2, 3, 4, 5].map((i) => ({ on: ['success', 'failure'], url: `${hang.url}/r0-${i}` })) : []),
          { on: ['success'], url: `${healthy.url}/${n}` },
        ],
      },
    ]),
  );
  await writeFile(configPath, stringify({ version: 1, repos }));
}
await rm(project, { recursive: true, force: true });
await import('node:fs/promises').then((fs) => fs.mkdir(project, { recursive: true }));
await writeConfig();

/** Each daemon gets a marker in its environment, which its steps and git processes inherit. */
let instance = 0;
let daemon: { child: ChildProcess; marker: string; exited: Promise<number | string>; out: () => string } | undefined;
function startDaemon(): NonNullable<typeof daemon> {
  const marker = `chaos-${SEED}-${++instance}`;
  // The shell sets the fd limit, then becomes the daemon (exec): the pid is the daemon's.
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${FD_LIMIT} && exec "$@"`, 'sh', process.execPath, BIN, 'run', '-c', configPath], {
    cwd: project,
    env: testEnv(root, { GITWATCH_CHAOS: marker }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return (daemon = { child, marker, exited, out: () => out });
}

/** Pids of live processes carrying `marker` in their environment (only our own are readable). */
function marked(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`GITWATCH_CHAOS=${marker}\0`)) found.push(Number(entry));
    } catch {
      // Gone already, or not ours.
    }
  }
  return found;
}

/** Children of the daemon, by command name (git runs in a group of its own, but is still its child). */
function childrenNamed(pid: number, name: string): number[] {
  return marked(daemon?.marker ?? '-').filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]?.split(' ')[1]);
      return stat.includes(`(${name})`) && (ppid === pid || name !== 'git');
    } catch {
      return false;
    }
  });
}

async function killDaemon(signal: NodeJS.Signals): Promise<void> {
  const d = daemon;
  if (!d) return;
  const stopping = Date.now();
  d.child.kill(signal);
  const code = await Promise.race([d.exited, sleep(20_000).then(() => 'hung')]);
  check(code !== 'hung', `the daemon did not exit after ${signal}\n${d.out()}`);
  // A step gets 10 s after SIGTERM, and so do pending notifications; both run side by side.
  if (signal === 'SIGTERM') check(Date.now() - stopping < 15_000, `SIGTERM took ${Date.now() - stopping} ms\n${d.out()}`);
  if (signal === 'SIGTERM') check(code === 0, `exit ${code} after SIGTERM\n${d.out()}`);
  // Nothing of the dead daemon may stay. The orphan guard acts within milliseconds of a kill -9; the
  // wait is shorter than a step's sleep, so a step that outlived the daemon cannot end by itself in time.
  let left = marked(d.marker);
  for (let i = 0; i < 16 && left.length > 0; i++) {
    await sleep(50);
    left = marked(d.marker);
  }
  check(left.length === 0, `processes of the ${signal === 'SIGKILL' ? 'killed' : 'stopped'} daemon still run: ${left.map((p) => readCmd(p)).join('; ')}`);
  if (signal === 'SIGTERM') check((await temps()).length === 0, `temp files after a clean stop: ${(await temps()).join(', ')}`);
  daemon = undefined;
}

function readCmd(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
  } catch {
    return String(pid);
  }
}

async function temps(): Promise<string[]> {
  return (await readdir(project)).filter((f) => f.endsWith('.tmp'));
}

async function restart(): Promise<void> {
  const d = startDaemon();
  for (let i = 0; i < 200 && !/gitwatch running/.test(d.out()); i++) await sleep(25);
  check(/gitwatch running/.test(d.out()), `the daemon did not start\n${d.out()}`);
  check((await temps()).length === 0, `a killed daemon's temp file survived the restart: ${(await temps()).join(', ')}`);
}

const highest = new Map<string, number>();
async function checkState(after: string): Promise<void> {
  const state = await readState(statePath).catch((e: Error) => {
    throw new ChaosFailure(`after ${after}: ${e.message}`);
  });
  for (const name of names) {
    const commit = state.repos[name]?.commit;
    if (commit === undefined) continue;
    const index = heads.get(name)?.lastIndexOf(commit) ?? -1;
    check(index >= 0, `after ${after}: ${name} holds a commit the remote never had`);
    check(index >= (highest.get(name) ?? -1), `after ${after}: ${name} moved backwards`);
    highest.set(name, index);
  }
}

type Event = readonly [string, number, () => Promise<void>];
const push = (force: boolean) => async (): Promise<void> => {
  const name = pick(names);
  const repo = remotes.get(name);
  if (!repo) return;
  // A force push drops the head commit, so the remote needs one to keep.
  if (force && repo.git('rev-list', '--count', 'HEAD') === '1') heads.get(name)?.push(await repo.commit());
  heads.get(name)?.push(force ? await repo.forcePush() : await repo.commit());
};
/** How many kill events found a process to kill. */
const hits = new Map<string, number>();
const killChild = (what: string) => (): Promise<void> => {
  const pid = daemon?.child.pid;
  const victims = pid === undefined ? [] : childrenNamed(pid, what);
  if (victims.length > 0) {
    process.kill(pick(victims), 'SIGKILL');
    hits.set(what, (hits.get(what) ?? 0) + 1);
  }
  return Promise.resolve();
};
/** Connections to the control socket that never send a request, or send one and never read the answer. */
const controlClients = (count: number, request: string | undefined) => (): Promise<void> => {
  for (let i = 0; i < count; i++) {
    const socket = connect(`${statePath}.sock`);
    socket.on('error', () => undefined);
    if (request !== undefined) socket.write(`${request}\n`);
    clients.push(socket);
  }
  return Promise.resolve();
};
const EVENT_TABLE: readonly Event[] = [
  ['commit', 30, push(false)],
  ['force push', 5, push(true)],
  ['kill -9 daemon', 12, async () => (await killDaemon('SIGKILL'), await restart())],
  ['SIGTERM', 5, async () => (await killDaemon('SIGTERM'), await restart())],
  ['SIGHUP', 6, () => Promise.resolve(void daemon?.child.kill('SIGHUP'))],
  ['kill -9 step', 12, killChild('sleep')],
  ['kill -9 git', 12, killChild('git')],
  [
    'second instance',
    5,
    async () => {
      const second = spawn(process.execPath, [BIN, 'once', '-c', configPath], { cwd: project, env: testEnv(root), stdio: 'ignore' });
      const code = await new Promise((r) => second.once('exit', r));
      check(code === 2, `a second instance exited ${String(code)}, not 2`);
    },
  ],
  ['config rewrite', 8, () => writeConfig()],
  ['broken config, then fixed', 5, async () => (await writeConfig(false), await sleep(300), await writeConfig())],
  // With the fd limit, a flood leaves the daemon without descriptors until it drops the idle ones (5 s).
  ['idle control flood', 4, controlClients(100, undefined)],
  ['control clients that never read', 4, controlClients(10, '{"op":"status"}')],
];
const total = EVENT_TABLE.reduce((sum, [, weight]) => sum + weight, 0);
function nextEvent(): Event {
  let r = random() * total;
  for (const event of EVENT_TABLE) if ((r -= event[1]) < 0) return event;
  return EVENT_TABLE[0] as Event;
}

const counts = new Map<string, number>();
const started = Date.now();
let failed: string | undefined;
try {
  await restart();
  for (let i = 1; i <= EVENTS; i++) {
    const [name, , run] = nextEvent();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    await run();
    await sleep(50 + random() * 400);
    const d = daemon;
    check(d === undefined || d.child.exitCode === null, `the daemon died after event ${i} (${name})\n${d?.out() ?? ''}`);
    await checkState(`event ${i} (${name})`);
  }
  // Convergence: one last commit everywhere, which must run to success.
  for (const name of names) heads.get(name)?.push((await remotes.get(name)?.commit()) ?? '');
  await writeConfig();
  const until = Date.now() + 60_000;
  for (;;) {
    const state = await readState(statePath);
    const behind = names.filter((n) => state.repos[n]?.commit !== heads.get(n)?.at(-1));
    if (behind.length === 0) break;
    check(Date.now() < until, `not converged after 60 s: ${behind.join(', ')}\n${daemon?.out() ?? ''}`);
    await sleep(200);
  }
  // r0's receiver hangs; the others' notifications of the final heads go out all the same.
  const finals = names.map((n) => heads.get(n)?.at(-1) ?? '');
  const heardBy = Date.now() + 15_000;
  while (finals.some((c) => !heard.has(c)) && Date.now() < heardBy) await sleep(200);
  check(
    finals.every((c) => heard.has(c)),
    `notifications of the final heads not received: ${names.filter((_, i) => !heard.has(finals[i] ?? '')).join(', ')}\n${daemon?.out() ?? ''}`,
  );
  // Idle and unread control connections are dropped: the daemon's descriptors fall back to what it needs.
  const pid = daemon?.child.pid ?? 0;
  const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
  const restBy = Date.now() + 15_000;
  while (fds() > FD_LIMIT / 2 && Date.now() < restBy) await sleep(200);
  check(fds() <= FD_LIMIT / 2, `the daemon still holds ${fds()} descriptors after the control clients went quiet`);
  await killDaemon('SIGTERM');
} catch (error) {
  failed = error instanceof ChaosFailure ? error.message : String((error as Error).stack ?? error);
} finally {
  for (const socket of clients) socket.destroy();
  hang.close();
  healthy.close();
  if (daemon) daemon.child.kill('SIGKILL');
  await daemon?.exited;
  for (const pid of instance > 0 ? marked(`chaos-${SEED}-`) : []) process.kill(pid, 'SIGKILL');
}
const summary = [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
console.log(`chaos: ${EVENTS} events in ${Math.round((Date.now() - started) / 1000)} s, seed ${SEED}: ${summary}`);
console.log(`chaos: kills that found a target: step ${hits.get('sleep') ?? 0}, git ${hits.get('git') ?? 0}`);
if (failed !== undefined) {
  console.error(`chaos FAILED (replay with --seed ${SEED} --events ${EVENTS}): ${failed}`);
  console.error(`kept for inspection: ${root}`);
  process.exitCode = 1;
} else {
  await rm(root, { recursive: true, force: true });
  console.log('chaos: every check held; every repo converged');
}
