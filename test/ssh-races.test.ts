// What happens to a check or a fetch over SSH while something else happens: the SSH master is killed under
// a check, a commit lands between the check and the fetch. The test's sshd speaks git's old protocol (v0: it
// does not pass GIT_PROTOCOL on), so a fetch may ask only for what the server advertises. Its sessions
// pass through a gate the test holds and releases, so "between" is a moment the test chooses, not a sleep.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startGitwatch } from './helpers/daemon.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { makeProject, RECORD_STEP, type Project } from './helpers/project.js';
import { sshdMissing, startSshd, type Sshd } from './helpers/sshd.js';
import { tempDir } from './helpers/temp.js';

interface Rig {
  readonly project: Project;
  readonly remote: TestRepo;
  readonly sshd: Sshd;
  /** gitwatch's own TMPDIR: its SSH masters name their sockets there. */
  readonly tmp: string;
  /** Holds the `n`th upload-pack session (1: the first check) until `release(n)`. */
  hold(n: number): Promise<void>;
  /** Resolves once the `n`th upload-pack session waits at the gate. */
  reached(n: number): Promise<void>;
  release(n: number): Promise<void>;
}

/**
 * sshd's ForceCommand: each upload-pack session is counted and, when the test holds its number, waits until
 * released (or until the test's folder is removed), then runs what was asked.
 */
function gateScript(gate: string): string {
  return [
    '#!/bin/sh',
    `G='${gate}'`,
    'case "$SSH_ORIGINAL_COMMAND" in',
    '  *upload-pack*)',
    '    n=$(( $(cat "$G/count" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$G/count"',
    '    if [ -f "$G/hold.$n" ]; then',
    '      : > "$G/reached.$n"',
    '      while [ -f "$G/hold.$n" ] && [ -d "$G" ]; do sleep 0.05; done',
    '    fi;;',
    'esac',
    'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
    '',
  ].join('\n');
}

async function rig(t: TestContext): Promise<Rig> {
  const root = await tempDir(t);
  const gate = path.join(root, 'gate');
  await writeFile(path.join(root, 'gate.sh'), gateScript(gate), { mode: 0o755 });
  await import('node:fs/promises').then((fs) => fs.mkdir(gate));
  const remote = await TestRepo.create(path.join(root, 'site'));
  const sshd = await startSshd(t, path.join(root, 'sshd'), { config: [`ForceCommand ${path.join(root, 'gate.sh')}`] });
  const project = await makeProject(t, {
    version: 1,
    repos: { site: { url: sshd.url(remote.dir), ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts, pipeline: [RECORD_STEP] } },
  });
  const tmp = await tempDir(t, 'gitwatch-tmpdir-');
  project.env['TMPDIR'] = tmp;
  return {
    project,
    remote,
    sshd,
    tmp,
    hold: (n) => writeFile(path.join(gate, `hold.${n}`), ''),
    reached: async (n) => {
      const until = Date.now() + 20_000;
      while (!existsSync(path.join(gate, `reached.${n}`))) {
        if (Date.now() > until) throw new Error(`upload-pack session ${n} never reached the gate`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    release: (n) => rm(path.join(gate, `hold.${n}`), { force: true }),
  };
}

/** The pids of the SSH masters gitwatch started with its socket in `tmp` (`ssh -M ... ControlPath=<tmp>/...`). */
async function masters(tmp: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.includes('-M') && args.some((a) => a.startsWith(`ControlPath=${tmp}/`))) found.push(Number(pid));
  }
  return found;
}

describe('SSH races', () => {
  test('a master killed under a check: the check is made again on a connection of its own', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const r = await rig(t);
    await r.hold(1);
    const once = startGitwatch(t, r.project, ['once']);
    await r.reached(1);
    const [master] = await masters(r.tmp);
    assert.ok(master !== undefined, 'the check goes through a master');
    process.kill(master, 'SIGKILL');
    // The check's session ends with its master; what waits at the gate is let go, and runs into a closed channel.
    await r.release(1);
    assert.equal(await once.exited, 0, once.stdout() + once.stderr());
    assert.doesNotMatch(once.stdout() + once.stderr(), /unreachable|check failed/);
    assert.match((await r.project.record())[0] ?? '', new RegExp(`^site ${r.remote.head()} `));
  });

  test('a commit that lands between the check and the fetch: the remote is checked again and its new head runs', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const r = await rig(t);
    // A stock server: only what it advertises may be fetched (TestRepo allows any reachable commit).
    r.remote.git('config', 'uploadpack.allowReachableSHA1InWant', 'false');
    // Session 1 is the check, session 2 the fetch of what it found.
    await r.hold(2);
    const checked = r.remote.head();
    const once = startGitwatch(t, r.project, ['once']);
    await r.reached(2);
    const landed = await r.remote.commit({ 'late.txt': 'landed between\n' });
    await r.release(2);
    assert.equal(await once.exited, 0, once.stdout() + once.stderr());
    assert.doesNotMatch(once.stdout() + once.stderr(), /unadvertised|not our ref|check failed/);
    assert.notEqual(landed, checked);
    assert.deepEqual(
      (await r.project.record()).map((l) => l.split(' ')[1]),
      [landed],
    );
  });
});
