// A Supervisor in this test process: real git, a fake clock, events collected; stopped when the test ends.

import assert from 'node:assert/strict';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/parse.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { GitClient } from '../../src/git/client.js';
import { StateKeeper } from '../../src/state/state-keeper.js';
import { Supervisor, type SupervisorDeps, type WorkerSnapshot } from '../../src/supervisor/supervisor.js';
import { Keyrings } from '../../src/verify/keyring.js';
import { Verifier } from '../../src/verify/verifier.js';
import { CollectingReporter } from './collect.js';
import { FakeClock } from './fake-clock.js';
import { testEnv, testProcesses } from './temp.js';

export function configFor(dir: string, repos: Record<string, unknown>, extra: Record<string, unknown> = {}): ResolvedConfig {
  const file = path.join(dir, 'gitwatch.yaml');
  const result = parseConfig(stringify({ version: 1, ...extra, repos }), { file, absolutePath: file, env: {} });
  if (!result.ok) assert.fail(JSON.stringify(result.error));
  return result.value;
}

/** `extra` goes into the config beside `repos`; `overrides` replace the supervisor's deps. */
export async function supervise(
  t: TestContext,
  dir: string,
  repos: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  overrides: Partial<SupervisorDeps> = {},
) {
  const config = configFor(dir, repos, extra);
  const clock = new FakeClock();
  const reporter = new CollectingReporter();
  const controller = new AbortController();
  const env = testEnv(dir, { RECORD: path.join(dir, 'record.txt') });
  const groups = testProcesses();
  const supervisor = new Supervisor(config, {
    git: new GitClient(env, groups),
    env,
    reporter,
    clock,
    state: await StateKeeper.open(config.statePath, process.pid),
    groups,
    signal: controller.signal,
    concurrency: 4,
    random: () => 0,
    verifier: new Verifier(new Keyrings({ env, groups, clock })),
    ...overrides,
  });
  t.after(async () => {
    controller.abort();
    await supervisor.finished();
  });
  /** Every worker asleep until its next check (a paused one waits on no clock). */
  const settled = async (): Promise<void> => {
    await supervisor.until((s) => s.every((w) => ['idle', 'backoff', 'paused', 'disabled', 'stopped'].includes(w.phase)));
    // A branch glob's target has no check of its own scheduled: it waits on no clock either.
    const sleeping = (): number => supervisor.snapshot().filter((w) => (w.phase === 'idle' || w.phase === 'backoff') && w.nextCheckAt !== undefined).length;
    while (clock.pending < sleeping()) await new Promise((r) => setTimeout(r, 5));
  };
  const worker = (name: string): WorkerSnapshot => {
    const w = supervisor.snapshot().find((x) => x.repo === name);
    assert.ok(w, name);
    return w;
  };
  /** The wait until `name`'s next check, as scheduled now. */
  const delay = (name: string): number => (worker(name).nextCheckAt?.getTime() ?? 0) - clock.now().getTime();
  /** Moves the clock to `name`'s next check and waits until that check is done and everything sleeps again. */
  const nextCheck = async (name: string): Promise<void> => {
    const checks = worker(name).checks;
    clock.advance(delay(name));
    await supervisor.until((ws) => (ws.find((x) => x.repo === name)?.checks ?? 0) > checks);
    await settled();
  };
  return { config, clock, reporter, supervisor, controller, settled, worker, delay, nextCheck };
}
