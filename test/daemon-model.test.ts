// A model-based test of the daemon: random sequences of what remotes and operators do (push, force push,
// pause, resume, trigger with and without --wait, a push webhook, cancel, rollback with and without --to,
// unpin, reloads that add, remove, enable, disable and move repos or pin them with `commit:`, that change
// `concurrency.pipelines` or put repos in a `group` and take them out, a branch glob gaining and
// losing branches, remotes failing and recovering, a client that throws, steps that succeed, fail or hang,
// and for the repos that `verify:` (a and g) pushes that are unsigned or signed by a key no config names,
// and reloads that switch the key) against the real Supervisor, with the remotes and pipelines in memory (helpers/model-world.ts) and a
// fake clock. After every command:
//   - no error escapes, and no internal error but the injected ones (an illegal phase change is one);
//   - every phase change is one TRANSITIONS allows;
//   - the lock file is valid and no repo's commit moves backwards, but to the commit it is pinned at (a
//     rollback, or the config's `commit:`), the one move back that is allowed;
//   - a paused repo starts no run it was not triggered (or rolled back) for;
//   - a pinned repo starts no run of any commit but its pin;
//   - no run starts while as many as `concurrency.pipelines` run, nor beside a run of its own repo or of
//     its group;
//   - a verifying repo runs only commits signed by the key its config names, its lock never holds an
//     unsigned or wrongly signed commit, a refused head is not checked again on every poll (only after a
//     trigger or new keys), and a refused head is news (a notification) once, not again until a run.
// At the end, with every remote fixed and every hung step released: every enabled, unpaused repo's lock is
// its head (a pinned repo's: its pin), or that commit failed and waits, or (verifying) was refused and the
// lock says so; then every `trigger --wait` and
// `rollback` has its answer, before and after shutdown. GITWATCH_MODEL_RUNS sets the number of sequences
// (CI runs more); a failure prints its seed.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isPaused, pinOf } from '../src/cycle/schedule.js';
import { readState } from '../src/state/state-file.js';
import { StateKeeper } from '../src/state/state-keeper.js';
import { Supervisor, TRANSITIONS, type TriggerResult } from '../src/supervisor/supervisor.js';
import { repoOfTarget } from '../src/domain.js';
import { CollectingReporter } from './helpers/collect.js';
import { FakeClock } from './helpers/fake-clock.js';
import { INJECTED, keyringId, ModelWorld, type Signer, type StepMode } from './helpers/model-world.js';
import { configFor } from './helpers/supervised.js';
import { testProcesses } from './helpers/temp.js';
import { Keyrings } from '../src/verify/keyring.js';
import { Verifier } from '../src/verify/verifier.js';

const RUNS = Number(process.env['GITWATCH_MODEL_RUNS'] ?? 500);
const SEED = Number(process.env['GITWATCH_MODEL_SEED'] ?? 20261206);

const PLAIN = ['a', 'b', 'c'] as const;
const GLOB = 'g';
const NAMES = [...PLAIN, GLOB] as const;
type Name = (typeof NAMES)[number];
const INTERVAL: Record<Name, string> = { a: '10s', b: '30s', c: '1m', g: '20s' };

/** The repos whose config has `verify:` (a plain repo and the branch glob). */
const VERIFIED: readonly Name[] = ['a', GLOB];

interface RepoSpec {
  enabled: boolean;
  /** A verifying repo's key: which of the model's keys its config names (A unless a reload switched it). */
  key?: 'A' | 'B';
  /** Which of the repo's remotes it follows (a url change moves to the next). */
  remote: number;
  /** A plain repo's branch. */
  branch: 'main' | 'next';
  /** `commit:` instead of the branch: the commit the config pins (a plain repo only). */
  commit?: string | undefined;
  /** `group: deploy`: never runs beside another repo of the group. */
  group?: 'deploy' | undefined;
}

/** What the commands' preconditions need to know; the real system is the judge of everything else. */
interface Model {
  readonly repos: Map<Name, RepoSpec>;
}

class Real {
  readonly world = new ModelWorld();
  readonly clock = new FakeClock();
  readonly reporter = new CollectingReporter();
  readonly controller = new AbortController();
  readonly problems: string[] = [];
  readonly waits: { name: string; result: TriggerResult | undefined }[] = [];
  /**
   * Triggers not yet used by a run of a paused repo, by name. A paused repo's run uses one; each such run
   * in the daemon comes from at least one trigger, so a count never excuses a run that had none. A glob's
   * trigger reaches every target it finds: it excuses them all until the end of the sequence.
   */
  readonly triggers = new Map<string, number>();
  /**
   * Per lock entry and the remote and branch a commit came from: the newest commit the lock held. A later
   * commit of the same ref is newer, so going below it is going back; moving to another url or branch is not.
   */
  readonly floor = new Map<string, string>();
  supervisor!: Supervisor;
  state!: StateKeeper;
  spec = new Map<Name, RepoSpec>();
  /** `concurrency.pipelines` of the config applied last. */
  pipelines = 1;
  /** The runs running now, by repo or target, with the group each started in. */
  readonly running = new Map<string, string | undefined>();
  phaseChanges = 0;
  /**
   * Triggers, rollbacks and reloads so far (any repo): a refused head is checked again only after one of
   * these (a reload may pin the repo to that very commit), or under new keys; never by a poll.
   */
  triggerCount = 0;
  /** Per store: the last signature check, whether it refused, and the count above then. */
  readonly lastVerify = new Map<string, { readonly sha: string; readonly keys: string; readonly refused: boolean; readonly triggers: number }>();
  /** Per repo (or target): the commit of its last `unverified` notification, until it runs something. */
  readonly lastRefusalNews = new Map<string, string>();

  constructor(readonly dir: string) {}

  url(name: Name, spec: RepoSpec): string {
    return `file:///model/${name}-${spec.remote}.git`;
  }

  /** The key a repo's commits are signed with when a push does nothing special: the one its config names. */
  keyOf(name: Name): Signer {
    return this.spec.get(name)?.key ?? 'A';
  }

  config(): ReturnType<typeof configFor> {
    const repos: Record<string, unknown> = {};
    for (const [name, spec] of this.spec) {
      repos[name] = {
        url: this.url(name, spec),
        ...(spec.commit === undefined ? { branch: name === GLOB ? 'release/*' : spec.branch } : { commit: spec.commit }),
        interval: INTERVAL[name],
        enabled: spec.enabled,
        pipeline: ['deploy'],
        ...(spec.group === undefined ? {} : { group: spec.group }),
        ...(VERIFIED.includes(name) ? { verify: { mode: 'head', ssh_allowed_signers: `keys-${spec.key ?? 'A'}` } } : {}),
      };
    }
    const config = configFor(this.dir, repos, this.pipelines === 1 ? {} : { concurrency: { pipelines: this.pipelines } });
    // The keys as a load would have read them: the keyring's id says which model key it is (model-world.ts).
    return {
      ...config,
      repos: config.repos.map((repo) => {
        if (repo.verify === undefined) return repo;
        const key = repo.verify.files[0]?.path.endsWith('keys-B') === true ? 'B' : 'A';
        return { ...repo, verify: { ...repo.verify, keys: { id: keyringId(key), contents: [] } } };
      }),
    };
  }

  async start(initial: Map<Name, RepoSpec>): Promise<void> {
    this.spec = new Map(initial);
    for (const name of NAMES) {
      for (const remote of [0, 1]) {
        const url = this.url(name, { enabled: true, remote, branch: 'main' });
        if (name === GLOB) this.world.push(url, 'release/1');
        else {
          this.world.push(url, 'main');
          this.world.push(url, 'next');
        }
      }
    }
    const config = this.config();
    this.state = await StateKeeper.open(config.statePath, process.pid);
    // The run's start says why it runs: a paused repo's run must say `trigger`.
    const emit = this.reporter.emit.bind(this.reporter);
    this.reporter.emit = (event) => {
      if (event.type === 'run-started' && event.reason !== 'trigger' && event.reason !== 'rollback' && this.pausedNow(event.repo)) {
        this.problems.push(`${event.repo}: a paused repo started a run for '${event.reason ?? '?'}'`);
      }
      emit(event);
    };
    this.world.onVerify = ({ store, sha, keys, refused }) => {
      const last = this.lastVerify.get(store);
      if (last?.refused === true && last.sha === sha && last.keys === keys && last.triggers === this.triggerCount) {
        this.problems.push(`${store}: ${sha}, refused, was checked again under the same keys by a poll`);
      }
      this.lastVerify.set(store, { sha, keys, refused, triggers: this.triggerCount });
    };
    this.world.onRunEnd = (run) => void this.running.delete(run.repo.name);
    this.world.onRunStart = (run) => {
      const name = run.repo.name;
      // The queue's rules, as a reload left them: every run that started before it had started by then
      // (each command waits until nothing is between admission and start).
      if (this.running.has(name)) this.problems.push(`${name}: a second run started beside its own`);
      const beside = [...this.running].find(([, group]) => group !== undefined && group === run.repo.group);
      if (beside !== undefined) this.problems.push(`${name}: started beside ${beside[0]}, both of group ${run.repo.group ?? ''}`);
      if (this.running.size >= this.pipelines)
        this.problems.push(`${name}: started while ${[...this.running.keys()].join(', ')} ran, with concurrency.pipelines ${this.pipelines}`);
      this.running.set(name, run.repo.group);
      this.lastRefusalNews.delete(name);
      const keys = run.repo.verify?.keys?.id;
      if (keys !== undefined) {
        const signer = this.world.signer(run.commit);
        if (signer === null || keyringId(signer as 'A' | 'B') !== keys)
          this.problems.push(`${name}: ran ${run.commit}, signed by ${signer ?? 'nobody'}, under keys ${keys}`);
      }
      const pin = pinOf(run.repo, this.state.entry(name));
      if (pin !== undefined && pin.commit !== run.commit) this.problems.push(`${name}: pinned at ${pin.commit} (${pin.by}), it ran ${run.commit}`);
      const glob = run.repo.target?.repo;
      if (!isPaused(run.repo, (n) => this.state.entry(n)) || (glob !== undefined && this.triggers.has(glob))) return;
      const left = this.triggers.get(name) ?? 0;
      if (left === 0) this.problems.push(`${name}: a paused repo started a run nobody triggered`);
      else this.triggers.set(name, left - 1);
    };
    this.supervisor = new Supervisor(config, {
      git: this.world.git(),
      pipeline: this.world.pipeline(),
      env: {},
      reporter: this.reporter,
      clock: this.clock,
      state: this.state,
      groups: testProcesses(),
      signal: this.controller.signal,
      concurrency: 4,
      random: () => 0.5,
      compactAfterFetches: Number.MAX_SAFE_INTEGER,
      onRunFinished: (finished) => {
        if (finished.run.status !== 'unverified') return;
        const name = finished.repo.name;
        if (this.lastRefusalNews.get(name) === finished.run.commit) this.problems.push(`${name}: the refusal of ${finished.run.commit} was news twice`);
        this.lastRefusalNews.set(name, finished.run.commit);
      },
      verifier: new Verifier(new Keyrings({ env: {}, groups: testProcesses(), clock: this.clock })),
      onPhase: (repo, from, to) => {
        this.phaseChanges++;
        if (!TRANSITIONS[from].includes(to)) this.problems.push(`${repo}: ${from} → ${to} is not in TRANSITIONS`);
      },
    });
  }

  pausedNow(name: string): boolean {
    const glob = name.includes('@') ? name.slice(0, name.indexOf('@')) : undefined;
    return isPaused({ name, target: glob === undefined ? undefined : { repo: glob, pattern: '', folder: '' } }, (n) => this.state.entry(n));
  }

  apply(): void {
    this.triggerCount++;
    this.supervisor.apply(this.config());
  }

  /**
   * Until nothing moves: no worker checking, no run in progress but the hung ones (and those queued behind
   * them), and no event, phase change or sleep for a few turns of the event loop. State writes are real
   * file writes, so turns of the loop alone do not tell.
   */
  async quiet(): Promise<void> {
    const deadline = Date.now() + 10_000;
    const busy = (): boolean => {
      const phases = this.supervisor.snapshot().map((w) => w.phase);
      const count = (p: string): number => phases.filter((x) => x === p).length;
      return count('checking') > 0 || count('running') > this.world.hanging || (count('queued') > 0 && this.world.hanging === 0);
    };
    for (let still = 0; still < 3 && Date.now() < deadline;) {
      const before = [this.world.activity, this.phaseChanges, this.reporter.events.length, this.clock.pending];
      await new Promise((resolve) => setTimeout(resolve, 1));
      const after = [this.world.activity, this.phaseChanges, this.reporter.events.length, this.clock.pending];
      still = !busy() && before.every((v, i) => v === after[i]) ? still + 1 : 0;
    }
  }

  async check(): Promise<void> {
    await this.quiet();
    for (const e of this.reporter.of('turn-failed')) {
      if (e.kind === 'internal' && !e.error.includes(INJECTED)) this.problems.push(`${e.repo}: ${e.error}\n${e.stack ?? ''}`);
    }
    // The file on disk: valid, and no commit lower than one it already held.
    const onDisk = await readState(this.state.file);
    for (const [name, entry] of Object.entries(onDisk.repos)) {
      if (entry.commit === undefined) continue;
      const signer = this.world.signer(entry.commit);
      if (VERIFIED.some((v) => name === v || name.startsWith(`${v}@`)) && (signer === null || signer === 'C')) {
        this.problems.push(`${name}: the lock holds ${entry.commit}, signed by ${signer ?? 'nobody'}`);
      }
      const key = `${name} ${this.world.origin(entry.commit) ?? '?'}`;
      // A rollback, or the config's `commit:`, moves the lock back on purpose: from there it is the floor.
      const pinnedHere = entry.pinned?.commit === entry.commit || this.spec.get(name as Name)?.commit === entry.commit;
      if (pinnedHere) {
        this.floor.set(key, entry.commit);
        continue;
      }
      const floor = this.floor.get(key);
      if (floor !== undefined && entry.commit < floor) this.problems.push(`${name}: the lock moved back from ${floor} to ${entry.commit}`);
      if (floor === undefined || entry.commit > floor) this.floor.set(key, entry.commit);
    }
    assert.deepEqual(this.problems, []);
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** A command that changes the world and then checks the invariants. */
function command(label: string, canRun: (m: Model) => boolean, act: (m: Model, r: Real) => void | Promise<void>): Cmd {
  return {
    check: canRun,
    run: async (m, r) => {
      await act(m, r);
      await r.check();
    },
    toString: () => label,
  };
}

const configured = (name: Name) => (m: Model) => m.repos.has(name);
const name = fc.constantFrom(...NAMES);
const plain = fc.constantFrom(...PLAIN);

/** `rollback`: listed three times among the commands, since it needs runs in the history and meets more that way. */
const rollback = fc
  .tuple(
    fc.oneof(plain, fc.constantFrom('g@release/1')),
    fc.constantFrom<'last good' | 'head' | 'foreign'>('last good', 'last good', 'head', 'head', 'foreign'),
  )
  .map(([n, to]) =>
    command(`rollback ${n}${to === 'last good' ? '' : ` --to ${to}`}`, configured(repoOfTarget(n) as Name), async (m, r) => {
      const spec = r.spec.get(repoOfTarget(n) as Name);
      if (spec === undefined) return;
      const url = r.url(repoOfTarget(n) as Name, spec);
      const branch = n.includes('@') ? n.slice(n.indexOf('@') + 1) : spec.branch;
      // `head`: the branch's head, always in its history; `foreign`: a commit of another repo, never.
      const sha =
        to === 'head'
          ? r.world.head(url, branch)
          : to === 'foreign'
            ? r.world.head(r.url('c', { enabled: true, remote: 1, branch: 'main' }), 'next')
            : undefined;
      const entry = { name: n, result: undefined as TriggerResult | undefined };
      r.triggerCount++;
      const chosen = await r.supervisor.rollback(n, sha, (result) => (entry.result = result));
      if (!chosen.ok) return;
      r.triggers.set(n, (r.triggers.get(n) ?? 0) + 1);
      r.waits.push(entry);
    }),
  );

/** `trigger [--wait] n`: what it answers is checked once nothing runs. */
function trigger(n: string, wait: boolean): Cmd {
  return command(
    `trigger ${wait ? '--wait ' : ''}${n}`,
    () => true,
    (m, r) => {
      const entry = { name: n, result: undefined as TriggerResult | undefined };
      r.triggerCount++;
      const known = r.supervisor.trigger(n, wait ? (result) => (entry.result = result) : undefined);
      if (!known) return;
      r.triggers.set(n, (r.triggers.get(n) ?? 0) + 1);
      if (wait) r.waits.push(entry);
    },
  );
}

/** A head a verifying repo must refuse (until a reload names the other key, for that one). */
const unsignedPush = fc
  .tuple(fc.constantFrom('a', 'g@release/1', 'g@release/2'), fc.constantFrom<'unsigned' | 'key C' | 'the other key'>('unsigned', 'key C', 'the other key'))
  .map(([target, how]) =>
    command(`push to ${target}, signed by ${how === 'unsigned' ? 'nobody' : how}`, configured(repoOfTarget(target) as Name), (m, r) => {
      const n = repoOfTarget(target) as Name;
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      const signer: Signer = how === 'unsigned' ? null : how === 'key C' ? 'C' : r.keyOf(n) === 'A' ? 'B' : 'A';
      r.world.push(r.url(n, spec), n === GLOB ? target.slice(2) : spec.branch, signer);
    }),
  );

const commands = [
  rollback,
  rollback,
  rollback,
  plain.map((n) =>
    command(
      `push ${n}`,
      () => true,
      (m, r) => void r.world.push(r.url(n, r.spec.get(n) ?? { enabled: true, remote: 0, branch: 'main' }), r.spec.get(n)?.branch ?? 'main', r.keyOf(n)),
    ),
  ),
  plain.map((n) =>
    // In memory a force push is a new head like any other; what matters is that it arrives while anything else goes on.
    command(`force push ${n} (both branches)`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      r.world.push(r.url(n, spec), 'main', r.keyOf(n));
      r.world.push(r.url(n, spec), 'next', r.keyOf(n));
    }),
  ),
  fc
    .constantFrom('release/1', 'release/2', 'release/3')
    .map((b) =>
      command(
        `glob gains or moves ${b}`,
        configured(GLOB),
        (m, r) => void r.world.push(r.url(GLOB, r.spec.get(GLOB) ?? { enabled: true, remote: 0, branch: 'main' }), b, r.keyOf(GLOB)),
      ),
    ),
  // Twice in the list: a refused head, then what comes after it (a poll, a trigger, new keys, a good push), is the point.
  unsignedPush,
  unsignedPush,
  fc.constantFrom(...VERIFIED).map((n) =>
    command(`reload: switch ${n}'s verify key`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      spec.key = spec.key === 'B' ? 'A' : 'B';
      r.apply();
    }),
  ),
  fc
    .constantFrom('release/1', 'release/2', 'release/3')
    .map((b) =>
      command(`glob loses ${b}`, configured(GLOB), (m, r) =>
        r.world.deleteBranch(r.url(GLOB, r.spec.get(GLOB) ?? { enabled: true, remote: 0, branch: 'main' }), b),
      ),
    ),
  name.map((n) => command(`pause ${n}`, configured(n), async (m, r) => void (await r.supervisor.setPaused(n, true)))),
  name.map((n) => command(`resume ${n}`, configured(n), async (m, r) => void (await r.supervisor.setPaused(n, false)))),
  fc.tuple(fc.oneof(name, fc.constantFrom('g@release/1', 'g@release/2')), fc.boolean()).map(([n, wait]) => trigger(n, wait)),
  // A verifying repo's trigger again: of a refused head it must still refuse (and not make it news again).
  fc.tuple(fc.constantFrom('a', 'g@release/1', 'g@release/2'), fc.boolean()).map(([n, wait]) => trigger(n, wait)),
  fc.oneof(plain, fc.constantFrom('g@release/1')).map((n) =>
    command(
      `unpin ${n}`,
      () => true,
      async (m, r) => void (await r.supervisor.unpin(n)),
    ),
  ),
  plain.map((n) =>
    command(`reload: pin ${n} with commit: (or follow its branch again)`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      spec.commit = spec.commit === undefined ? r.world.head(r.url(n, spec), spec.branch) : undefined;
      r.apply();
    }),
  ),
  // A push webhook: a check at once, never a run of a paused repo.
  name.map((n) =>
    command(
      `webhook ${n}`,
      () => true,
      (m, r) => void r.supervisor.checkNow(n),
    ),
  ),
  fc.constantFrom(1, 2, 3).map((n) =>
    command(
      `reload: concurrency.pipelines ${n}`,
      () => true,
      (m, r) => {
        r.pipelines = n;
        r.apply();
      },
    ),
  ),
  name.map((n) =>
    command(`reload: put ${n} in group deploy, or take it out`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      spec.group = spec.group === undefined ? 'deploy' : undefined;
      r.apply();
    }),
  ),
  fc.oneof(name, fc.constantFrom('g@release/1')).map((n) =>
    command(
      `cancel ${n}`,
      () => true,
      (m, r) => void r.supervisor.cancel(n),
    ),
  ),
  name.map((n) =>
    command(
      `reload: add ${n}`,
      (m) => !m.repos.has(n),
      (m, r) => {
        const spec: RepoSpec = { enabled: true, remote: 0, branch: 'main' };
        m.repos.set(n, spec);
        r.spec.set(n, { ...spec });
        r.apply();
      },
    ),
  ),
  name.map((n) =>
    // A config needs one repo at least: the last one stays.
    command(
      `reload: remove ${n}`,
      (m) => m.repos.has(n) && m.repos.size > 1,
      (m, r) => {
        m.repos.delete(n);
        r.spec.delete(n);
        r.triggers.delete(n);
        r.apply();
      },
    ),
  ),
  name.map((n) =>
    command(`reload: enable or disable ${n}`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      spec.enabled = !spec.enabled;
      r.apply();
    }),
  ),
  plain.map((n) =>
    command(`reload: switch ${n}'s branch`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      spec.branch = spec.branch === 'main' ? 'next' : 'main';
      r.apply();
    }),
  ),
  name.map((n) =>
    command(`reload: change ${n}'s url`, configured(n), (m, r) => {
      const spec = r.spec.get(n);
      if (spec === undefined) return;
      spec.remote = 1 - spec.remote;
      r.apply();
    }),
  ),
  fc
    .tuple(
      name,
      fc.constantFrom<'unreachable' | 'timeout' | 'not-found' | 'auth' | 'branch-missing'>('unreachable', 'timeout', 'not-found', 'auth', 'branch-missing'),
    )
    .map(([n, kind]) =>
      command(
        `${n}'s remote fails: ${kind}`,
        () => true,
        (m, r) => {
          for (const remote of [0, 1]) r.world.remote(r.url(n, { enabled: true, remote, branch: 'main' })).failure = kind;
        },
      ),
    ),
  name.map((n) =>
    command(
      `${n}'s remote recovers`,
      () => true,
      (m, r) => {
        for (const remote of [0, 1]) r.world.remote(r.url(n, { enabled: true, remote, branch: 'main' })).failure = undefined;
      },
    ),
  ),
  fc.tuple(name, fc.boolean()).map(([n, on]) =>
    command(
      `${n}'s git client ${on ? 'throws' : 'works again'}`,
      () => true,
      (m, r) => {
        for (const remote of [0, 1]) r.world.remote(r.url(n, { enabled: true, remote, branch: 'main' })).throws = on;
      },
    ),
  ),
  fc.tuple(name, fc.constantFrom<StepMode>('succeed', 'fail', 'hang')).map(([n, mode]) =>
    command(
      `${n}'s steps ${mode}`,
      () => true,
      (m, r) => void r.world.modes.set(n, mode),
    ),
  ),
  fc.constant(
    command(
      'release hung steps',
      () => true,
      (m, r) => r.world.releaseAll(),
    ),
  ),
  fc.constantFrom(1_000, 10_000, 30_000, 60_000, 5 * 60_000).map((ms) =>
    command(
      `advance ${ms / 1000}s`,
      () => true,
      (m, r) => r.clock.advance(ms),
    ),
  ),
];

/** Everything fixed and released; time passes until every repo has looked again. */
async function quiesce(r: Real): Promise<void> {
  for (const n of NAMES) {
    r.world.modes.set(n, 'succeed');
    for (const remote of [0, 1]) {
      const remoteRepo = r.world.remote(r.url(n, { enabled: true, remote, branch: 'main' }));
      remoteRepo.failure = undefined;
      remoteRepo.throws = false;
    }
  }
  for (let i = 0; i < 4; i++) {
    r.world.releaseAll();
    await r.quiet();
    // Past the longest backoff (5 minutes) and every interval with its jitter.
    r.clock.advance(6 * 60_000);
    await r.quiet();
  }
  await r.check();
}

function converged(r: Real): string[] {
  const out: string[] = [];
  const entryOf = (n: string) => r.state.entry(n);
  for (const [n, spec] of r.spec) {
    if (!spec.enabled || entryOf(n)?.paused === true) continue;
    const url = r.url(n, spec);
    const targets = n === GLOB ? r.world.branches(url).map((b) => [`${n}@${b}`, b] as const) : [[n, spec.branch] as const];
    for (const [target, branch] of targets) {
      if (entryOf(target)?.paused === true) continue;
      const entry = entryOf(target);
      // A pinned repo's goal is its pin (the config's `commit:`, or a rollback the config still allows).
      const pin = pinOf({ displayUrl: url, branch, tag: undefined, semver: undefined, commit: spec.commit }, entry);
      const head = pin?.commit ?? r.world.head(url, branch);
      const failedAndWaits = entry?.lastRun?.commit === head && entry?.lastRun?.status === 'failed';
      // A head (or pin) not signed by the key the config names now is refused, and the lock says which.
      const refused = VERIFIED.includes(n) && head !== undefined && r.world.signer(head) !== r.keyOf(n) && entry?.unverified?.commit === head;
      if (entry?.commit !== head && !failedAndWaits && !refused)
        out.push(`${target}: lock ${entry?.commit ?? 'none'}, head ${head ?? 'none'}, last run ${JSON.stringify(entry?.lastRun)}`);
    }
  }
  return out;
}

test(`the daemon keeps its rules under ${RUNS} random sequences of operator and remote actions`, { timeout: 600_000 }, async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await fc.assert(
      // The queue's rules meet the rest only when pipelines may run side by side and share a group: the
      // first config already says how many and which repos are grouped.
      fc.asyncProperty(
        fc.commands(commands, { maxCommands: 40 }),
        fc.constantFrom(1, 2, 3),
        fc.subarray(['a', 'b', 'g'] as const),
        async (cmds, pipelines, grouped) => {
          const dir = await mkdtemp(path.join(tmpdir(), 'gitwatch-model-'));
          const group = (n: Name): RepoSpec['group'] => (grouped.includes(n as 'a') ? 'deploy' : undefined);
          const initial = new Map<Name, RepoSpec>([
            ['a', { enabled: true, remote: 0, branch: 'main', group: group('a') }],
            ['b', { enabled: true, remote: 0, branch: 'main', group: group('b') }],
            ['g', { enabled: true, remote: 0, branch: 'main', group: group('g') }],
          ]);
          const real = new Real(dir);
          real.pipelines = pipelines;
          try {
            await real.start(initial);
            await real.check();
            await fc.asyncModelRun(() => ({ model: { repos: new Map([...initial].map(([k, v]) => [k, { ...v }])) }, real }), cmds);
            await quiesce(real);
            assert.deepEqual(
              converged(real),
              [],
              `at quiescence every enabled, unpaused repo is at its head or waits after a failure\n${JSON.stringify(real.supervisor.snapshot())}\n${real.reporter.events.map((e) => JSON.stringify(e)).join('\n')}`,
            );
            assert.deepEqual(
              real.waits.filter((w) => w.result === undefined).map((w) => w.name),
              [],
              'every trigger --wait and rollback has its answer once nothing runs',
            );
            real.controller.abort();
            await real.supervisor.finished();
            assert.deepEqual(unhandled, []);
          } finally {
            real.controller.abort();
            await real.supervisor?.finished();
            await rm(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: RUNS, seed: SEED, verbose: 1, includeErrorInReport: true },
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
