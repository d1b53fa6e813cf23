// .gitwatch.lock.json: read with validation, written atomically (temp file, fsync, rename, fsync folder),
// keys sorted and two-space indented so it diffs well when committed.

import { constants } from 'node:fs';
import { open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isSha, RUN_STATUSES, type RunStatus } from '../domain.js';
import { IoError, StateError } from '../errors.js';

export interface RunRecord {
  readonly commit: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly error?: string;
  /** Why a `skipped` commit did not run: nothing matched `paths`, or a skip marker. */
  readonly reason?: string;
  /** Tries of this commit so far, for a repo with `retry`: 1 for the first run. */
  readonly attempt?: number;
  /** The first line of the commit's message (at most 200 characters), for the status page. */
  readonly subject?: string;
}

export interface RepoState {
  /** The branch `commit` was processed on. */
  readonly branch?: string;
  /** The tag `commit` was processed as (`tag:` repos; then there is no branch). */
  readonly tag?: string;
  /** The last commit whose pipeline succeeded or was skipped. */
  readonly commit?: string;
  readonly lastRun?: RunRecord;
  /** The URL `commit` was processed from, credentials removed. */
  readonly url?: string;
  /** A branch glob's target whose branch left the remote: when gitwatch noticed (ISO time). */
  readonly gone?: string;
  /**
   * A branch glob's target whose folder is not its branch with '/' written as '-', because another
   * branch has that name (config/targets.ts): the folder name it keeps.
   */
  readonly folder?: string;
  /** Set by `gitwatch pause`: the repo is not checked until `gitwatch resume`. */
  readonly paused?: true;
  /** The last HISTORY_LIMIT runs, newest first (`lastRun` is the first). */
  readonly history?: readonly HistoryRecord[];
  /** Set by `gitwatch rollback`: the repo runs this commit, not its ref's head, until `gitwatch unpin`. */
  readonly pinned?: PinRecord;
  /**
   * The head `verify:` refused, and why (`commit abc: unsigned`): nothing ran for it and `commit` stayed.
   * Cleared when a verified commit runs. An older gitwatch keeps it as it is and ignores it.
   */
  readonly unverified?: { readonly commit: string; readonly reason: string };
}

/** One run as `history` keeps it. */
export interface HistoryRecord {
  readonly commit: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface PinRecord {
  readonly commit: string;
  readonly reason: 'rollback';
  /** When it was pinned (ISO). */
  readonly at: string;
  /** The url and ref (`branch:main`, `tag:v*`, `default`) the pin was made on: a config that follows another drops it. */
  readonly url?: string;
  readonly ref?: string;
}

/** Runs kept in `history` per repo. */
export const HISTORY_LIMIT = 20;

/** `run` on top of `history`, at most HISTORY_LIMIT kept. */
export function withHistory(history: readonly HistoryRecord[] | undefined, run: RunRecord): readonly HistoryRecord[] {
  const { commit, status, startedAt, finishedAt } = run;
  return [{ commit, status, startedAt, finishedAt }, ...(history ?? [])].slice(0, HISTORY_LIMIT);
}

export interface State {
  readonly version: 1;
  readonly repos: Readonly<Record<string, RepoState>>;
}

export const EMPTY_STATE: State = { version: 1, repos: {} };

const STATUSES: readonly string[] = RUN_STATUSES;

export async function readState(file: string): Promise<State> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
    throw new StateError(`cannot read state file ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new StateError(`state file ${file} is not valid JSON (${(err as Error).message}); fix or remove it, gitwatch will not overwrite it`);
  }
  const problem = stateProblem(data);
  if (problem !== undefined) throw new StateError(`state file ${file} is not a gitwatch state: ${problem}; fix or remove it, gitwatch will not overwrite it`);
  return data as State;
}

function stateProblem(data: unknown): string | undefined {
  if (!isObject(data)) return 'expected a JSON object';
  if (data['version'] !== 1) return `unknown version ${JSON.stringify(data['version'])}`;
  if (!isObject(data['repos'])) return "'repos' must be an object";
  for (const [name, entry] of Object.entries(data['repos'])) {
    if (!isObject(entry)) return `repos.${name} must be an object`;
    if (entry['commit'] !== undefined && !(typeof entry['commit'] === 'string' && isSha(entry['commit']))) return `repos.${name}.commit is not a commit id`;
    if (entry['gone'] !== undefined && typeof entry['gone'] !== 'string') return `repos.${name}.gone must be a time`;
    if (entry['tag'] !== undefined && typeof entry['tag'] !== 'string') return `repos.${name}.tag must be a string`;
    if (entry['folder'] !== undefined && typeof entry['folder'] !== 'string') return `repos.${name}.folder must be a string`;
    if (entry['paused'] !== undefined && entry['paused'] !== true) return `repos.${name}.paused must be true when present`;
    const unverified = entry['unverified'];
    if (
      unverified !== undefined &&
      !(isObject(unverified) && typeof unverified['commit'] === 'string' && isSha(unverified['commit']) && typeof unverified['reason'] === 'string')
    ) {
      return `repos.${name}.unverified must be {commit, reason}`;
    }
    const run = entry['lastRun'];
    if (run !== undefined && !(isObject(run) && typeof run['commit'] === 'string' && STATUSES.includes(String(run['status'])))) {
      return `repos.${name}.lastRun is malformed`;
    }
    const history = entry['history'];
    if (
      history !== undefined &&
      !(
        Array.isArray(history) &&
        history.every((h) => isObject(h) && typeof h['commit'] === 'string' && isSha(h['commit']) && STATUSES.includes(String(h['status'])))
      )
    ) {
      return `repos.${name}.history is malformed`;
    }
    const pinned = entry['pinned'];
    if (pinned !== undefined && !(isObject(pinned) && typeof pinned['commit'] === 'string' && isSha(pinned['commit']) && typeof pinned['at'] === 'string')) {
      return `repos.${name}.pinned is malformed`;
    }
    if (isObject(run) && run['subject'] !== undefined && typeof run['subject'] !== 'string') {
      return `repos.${name}.lastRun.subject must be text`;
    }
    if (isObject(run) && run['attempt'] !== undefined && !(Number.isInteger(run['attempt']) && Number(run['attempt']) >= 1)) {
      return `repos.${name}.lastRun.attempt must be a whole number of at least 1`;
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Each repo's entry as the bytes of its lines in the file, by the entry itself. Entries are never changed in
 * place (StateKeeper replaces the entry it updates), so a daemon that records one repo's run neither
 * serializes nor encodes the other 9,999 again: with their history, they are most of the file.
 */
const entryBytes = new WeakMap<RepoState, { readonly name: string; readonly bytes: Buffer }>();
const ENTRY_SEPARATOR = Buffer.from(',\n');

/** Stands for `repos` while the rest of the state is serialized; a string no state holds at that place. */
const REPOS_PLACE = '\u0000repos';

/**
 * The state file's bytes, in pieces to write one after another: keys sorted at every level, two-space indent,
 * byte for byte what `JSON.stringify` of the whole state with sorted keys gives.
 */
export function stateChunks(state: State): Buffer[] {
  const rest = JSON.stringify(sortKeys({ ...state, repos: REPOS_PLACE }), null, 2);
  const needle = `"repos": ${JSON.stringify(REPOS_PLACE)}`;
  const at = rest.indexOf(needle);
  const before = rest.slice(0, at);
  const after = `${rest.slice(at + needle.length)}\n`;
  const names = Object.keys(state.repos).filter((name) => state.repos[name] !== undefined);
  if (names.length === 0) return [Buffer.from(`${before}"repos": {}${after}`)];
  // Names keep the order they were added in, which is sorted unless a repo was added since the file was read.
  if (!isSorted(names)) names.sort();
  const chunks: Buffer[] = [Buffer.from(`${before}"repos": {\n`)];
  for (const [i, name] of names.entries()) {
    if (i > 0) chunks.push(ENTRY_SEPARATOR);
    chunks.push(entryChunk(name, state.repos[name] as RepoState));
  }
  chunks.push(Buffer.from(`\n  }${after}`));
  return chunks;
}

/** One entry as `JSON.stringify` writes it two levels in: `    "name": {` and its lines indented by four. */
function entryChunk(name: string, entry: RepoState): Buffer {
  const kept = entryBytes.get(entry);
  if (kept?.name === name) return kept.bytes;
  // JSON text holds no raw newline inside a string, so each newline starts a line to indent.
  const bytes = Buffer.from(`    ${JSON.stringify(name)}: ${JSON.stringify(sortKeys(entry), null, 2).replaceAll('\n', '\n    ')}`);
  entryBytes.set(entry, { name, bytes });
  return bytes;
}

function isSorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) > (names[i] as string)) return false;
  return true;
}

/** The state file's text (`stateChunks` joined). */
export function serializeState(state: State): string {
  return Buffer.concat(stateChunks(state)).toString('utf8');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/**
 * A new file, owner-only, that did not exist: never an existing file, and never through a link someone
 * planted at its name (O_EXCL refuses any link, dangling or not; O_NOFOLLOW says so twice).
 */
export async function createExclusive(file: string): Promise<FileHandle> {
  return open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
}

/** A reader or a crash at any instant sees the old file or the new one, never a mix. */
export async function writeState(file: string, state: State, pid: number): Promise<void> {
  // A random name, created exclusively: in a folder others can write to, nobody can know it in advance,
  // and whatever stands at it already is refused rather than written through. The pid says whose it was.
  const tmp = `${file}.${pid}-${randomBytes(6).toString('hex')}.tmp`;
  let created = false;
  try {
    const handle = await createExclusive(tmp);
    created = true;
    try {
      // The pieces go to the file as they are: no one string of the whole file is built or encoded again.
      await writeAll(handle, stateChunks(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    // Only our own temp file is removed; whatever else stands in its way stays for a person to see.
    if (created) await rm(tmp, { force: true }).catch(() => undefined);
    throw new IoError(`cannot write state file ${file}: ${(err as Error).message}`);
  }
  await syncFolder(path.dirname(file));
}

/**
 * Writes every piece. A write can stop short without an error (a full disk, a file size limit); the next one
 * then fails with the reason (ENOSPC, EFBIG), which is what the error should say.
 */
async function writeAll(handle: FileHandle, chunks: readonly Buffer[]): Promise<void> {
  let rest = chunks.filter((chunk) => chunk.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    if (bytesWritten === 0) throw new Error('the file system took no more bytes');
    const next: Buffer[] = [];
    for (const chunk of rest) {
      if (bytesWritten >= chunk.length) bytesWritten -= chunk.length;
      else {
        next.push(bytesWritten > 0 ? chunk.subarray(bytesWritten) : chunk);
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot sync a folder; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

/**
 * `<state>.<pid>-<random>.tmp` files (`<state>.<pid>.tmp` from an older gitwatch) left by a gitwatch killed
 * between writing and renaming. Only the holder of the instance lock calls this, so no live writer owns one.
 */
export async function removeStaleTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && /^\d+(-[0-9a-f]{12})?\.tmp$/.test(name.slice(prefix.length))) await rm(path.join(dir, name), { force: true });
  }
}
