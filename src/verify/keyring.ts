// The keyrings signature checks use: for each set of configured keys, a folder of gitwatch's own under the
// workdir (owner-only, like the rest of it) that holds a GnuPG home with those OpenPGP keys and nothing
// else, and an allowed-signers file with those SSH keys and nothing else. git is pointed at them alone
// (git/git-env.ts), so neither the user's ~/.gnupg nor their git config can make a signature count.
//
// A keyring is named by a hash of its keys (config/key-files.ts), so it is made once and then shared by
// every gitwatch on this workdir (`plan` beside a daemon, `once` from cron): it is built in a temporary
// folder and renamed into place, and a folder that is there is complete. Changed keys make a new one.

import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig, VerifyConfig } from '../config/types.js';
import { WORKDIR_LAYOUT, type Diagnostic, type Env } from '../domain.js';
import { IoError } from '../errors.js';
import type { Keyring } from '../git/git-env.js';
import type { Clock } from '../runtime/clock.js';
import { runInGroup } from '../runtime/process-group.js';
import type { ProcessGroups } from '../runtime/processes.js';

/** The program git runs to check each kind of signature, and the package that has it. */
const PROGRAMS = {
  gpg: { program: 'gpg', package: 'gnupg' },
  ssh: { program: 'ssh-keygen', package: 'openssh-client' },
} as const;

/** gpg reads only this: every key in this home is one the config named, and no agent is ever started. */
const GPG_CONF = 'trust-model always\nno-autostart\nno-auto-key-retrieve\n';
const IMPORT_TIMEOUT_MS = 60_000;

/** A key file gpg would not take: which one (its index in `files`) and what gpg said. */
export class KeyImportError extends Error {
  override readonly name = 'KeyImportError';
  constructor(
    readonly file: number,
    message: string,
  ) {
    super(message);
  }
}

export interface KeyringDeps {
  readonly env: Env;
  readonly groups: ProcessGroups;
  readonly clock: Clock;
}

export class Keyrings {
  private readonly made = new Map<string, Promise<Keyring>>();
  /** gpg and ssh-keygen as found on PATH at start; their bare names (git looks them up) until then. */
  private readonly programs: Record<'gpg' | 'ssh', string> = { gpg: PROGRAMS.gpg.program, ssh: PROGRAMS.ssh.program };

  constructor(private readonly deps: KeyringDeps) {}

  /** `verify`'s keyring under `workdir`, made if no gitwatch has made it yet. */
  keyring(workdir: string, verify: VerifyConfig): Promise<Keyring> {
    const keys = verify.keys;
    if (keys === undefined) throw new Error(`the key files of ${verify.at.path} were not read`);
    const folder = path.join(workdir, WORKDIR_LAYOUT.keyrings, keys.id);
    let made = this.made.get(folder);
    if (made === undefined) {
      made = this.make(folder, verify);
      // A failure is said once and tried again next time (the disk may have room by then).
      made.catch(() => this.made.delete(folder));
      this.made.set(folder, made);
    }
    return made;
  }

  /**
   * Every keyring the config needs, made now: at start and on reload, so a key file that gpg will not take
   * is a config problem at its line rather than a failed run. With `sweep` (the holder of the instance
   * lock only: `plan` may run beside a daemon of another config), keyrings of keys no longer configured go.
   */
  async prepare(config: ResolvedConfig, options: { sweep: boolean }): Promise<Diagnostic[]> {
    const problems: Diagnostic[] = [];
    const wanted = new Set<string>();
    const all = new Set(config.repos.flatMap((r) => (r.verify === undefined ? [] : [r.verify])));
    // A missing program is said at start, at each `verify` that needs it, not by every check that fails.
    for (const kind of ['gpg', 'ssh'] as const) {
      const needing = [...all].filter((v) => v.kind === kind);
      if (needing.length === 0) continue;
      const { program: name, package: pkg } = PROGRAMS[kind];
      const found = await onPath(name, this.deps.env);
      if (found !== undefined) this.programs[kind] = found;
      else
        for (const verify of needing)
          problems.push({
            file: config.file,
            ...verify.at,
            message: `verify needs ${name} to check signatures, and it is not on PATH (Debian: apt-get install ${pkg})`,
          });
    }
    if (problems.length > 0) return problems;
    for (const verify of all) {
      try {
        wanted.add(path.basename(path.dirname((await this.keyring(config.workdir, verify)).gnupgHome)));
      } catch (error) {
        if (error instanceof KeyImportError) {
          const at = verify.files[error.file]?.at ?? verify.at;
          problems.push({ file: config.file, ...at, message: error.message });
        } else problems.push({ file: config.file, ...verify.at, message: `cannot make the keyring for verify: ${(error as Error).message}` });
      }
    }
    if (problems.length === 0 && options.sweep) await this.sweep(config.workdir, wanted);
    return problems;
  }

  private async make(folder: string, verify: VerifyConfig): Promise<Keyring> {
    const keyring: Keyring = {
      gnupgHome: path.join(folder, 'gnupg'),
      allowedSigners: path.join(folder, 'allowed_signers'),
      gpg: this.programs.gpg,
      sshKeygen: this.programs.ssh,
    };
    if ((await stat(folder).catch(() => undefined))?.isDirectory() === true) return keyring;
    const parent = path.dirname(folder);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    // mkdtemp makes it owner-only.
    const build = await mkdtemp(path.join(parent, '.build-'));
    try {
      const home = path.join(build, 'gnupg');
      await mkdir(home, { mode: 0o700 });
      await writeFile(path.join(home, 'gpg.conf'), GPG_CONF, { mode: 0o600 });
      const contents = (verify.keys?.contents ?? []).map((c) => Buffer.from(c, 'base64'));
      await writeFile(path.join(build, 'allowed_signers'), verify.kind === 'ssh' ? Buffer.concat(contents) : '', { mode: 0o600 });
      if (verify.kind === 'gpg') {
        for (const [i, bytes] of contents.entries()) {
          const file = path.join(build, `key-${i}`);
          await writeFile(file, bytes, { mode: 0o600 });
          await this.importKeys(home, file, i, keyring.gpg);
          await rm(file, { force: true });
        }
      }
      try {
        await rename(build, folder);
      } catch (error) {
        // Another gitwatch made the same keys' keyring meanwhile: it is complete, and it is the one used.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    } catch (error) {
      if (error instanceof KeyImportError) throw error;
      throw new IoError(`cannot make the keyring in ${parent}: ${(error as Error).message}`);
    } finally {
      await rm(build, { recursive: true, force: true });
    }
    return keyring;
  }

  /** One key file into the GnuPG home; a file of which gpg imports no key is an error that names it. */
  private async importKeys(home: string, file: string, index: number, gpg: string): Promise<void> {
    const out: Buffer[] = [];
    const result = await runInGroup(gpg, ['--batch', '--no-tty', '--homedir', home, '--status-fd', '1', '--import', file], {
      env: { ...stringEnv(this.deps.env), GNUPGHOME: home, LC_ALL: 'C' },
      timeoutMs: IMPORT_TIMEOUT_MS,
      graceMs: { default: 2000 },
      maxOutput: 1024 * 1024,
      onOutput: (chunk) => void out.push(chunk),
      leftovers: 'stop',
      drainMs: 5000,
      groups: this.deps.groups,
      clock: this.deps.clock,
    });
    if (result.spawnError !== undefined) throw new KeyImportError(index, `cannot run ${gpg}: ${result.spawnError.message}`);
    const text = Buffer.concat(out).toString('utf8');
    // IMPORT_RES <count> <no_user_id> <imported> <imported_rsa> <unchanged> ...: keys taken, new or already there.
    const counts = /^\[GNUPG:\] IMPORT_RES (\d+) (\d+) (\d+) (\d+) (\d+)/m.exec(text);
    const taken = counts === null ? 0 : Number(counts[3]) + Number(counts[5]);
    if (taken === 0) {
      const said = text
        .split('\n')
        .filter((l) => l.startsWith('gpg: ') && !/^gpg: (keybox|Total number|no gpg-agent)/.test(l))
        .at(-1);
      throw new KeyImportError(index, `gpg imports no key from it${said === undefined ? '' : `: ${said.slice('gpg: '.length)}`}`);
    }
  }

  /** Removes the keyrings of keys no longer configured (and builds a killed gitwatch left behind). */
  private async sweep(workdir: string, wanted: ReadonlySet<string>): Promise<void> {
    const dir = path.join(workdir, WORKDIR_LAYOUT.keyrings);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      // A build in progress may be another gitwatch's: only an hour-old one is left over.
      if (name.startsWith('.build-')) {
        const info = await stat(path.join(dir, name)).catch(() => undefined);
        if (info !== undefined && this.deps.clock.now().getTime() - info.mtimeMs < 60 * 60_000) continue;
      } else if (wanted.has(name)) continue;
      else if (!/^[0-9a-f]{32}$/.test(name)) continue;
      await rm(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

function stringEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Where `name` is on `env`'s PATH, as the shell would find it; undefined when it is not. */
async function onPath(name: string, env: Env): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    const runnable = await access(candidate, constants.X_OK).then(
      () => stat(candidate).then((info) => info.isFile()),
      () => false,
    );
    if (runnable) return candidate;
  }
  return undefined;
}
