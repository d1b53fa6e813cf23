// A repo whose `branch` is a glob stands for one target per matching branch: `<name>@<branch>`, with its
// own lock entry, checkout (`<checkout>@<folder>`), store and run logs.
//
// A target's folder is its branch with '/' written as '-' (`release/1.0` → `release-1.0`). Two branches
// that differ only by '/' and '-' (`feat/x`, `feat-x`) would share that name, so one of them keeps it and
// each other one gets `<name>~<8 hex digits of the branch's SHA-256>` ('~' is never part of a branch name,
// so this cannot be another branch's name). Which one keeps it: the target that already ran there (the
// lock says so), else the first by name. A target that got the longer name records it in its lock entry
// (`folder`) and keeps it, whatever comes and goes later.

import { createHash } from 'node:crypto';
import { fileName } from '../domain.js';
import { branchNameProblem } from '../rules/ref-name.js';
import { globMatcher, isGlob } from '../rules/ref-pattern.js';
import type { RepoConfig, ResolvedConfig } from './types.js';

/** The repo follows every branch that matches its `branch` glob. */
export function isBranchGlob(repo: RepoConfig): repo is RepoConfig & { branch: string } {
  return repo.target === undefined && repo.branch !== undefined && isGlob(repo.branch);
}

/** The target of `repo` (a branch glob) for `branch`, in `folder` (see targetFolders). */
export function targetOf(repo: RepoConfig & { branch: string }, branch: string, folder: string): RepoConfig {
  return {
    ...repo,
    name: targetName(repo.name, branch),
    branch,
    checkout: `${repo.checkout}@${folder}`,
    target: { repo: repo.name, pattern: repo.branch, folder },
  };
}

export function targetName(repo: string, branch: string): string {
  return `${repo}@${branch}`;
}

/** What the lock says about a target that matters for its folder (a structural view of state's RepoState). */
export interface FolderClaim {
  readonly folder?: string | undefined;
  readonly commit?: string | undefined;
  readonly lastRun?: unknown;
}

/**
 * The folder of each target of glob repo `repo`: those of `branches` (listed on the remote now) and those
 * the lock knows (gone ones too, so a gone target's folder is never handed to another). Distinct for
 * distinct branches; the same answer for the same lock whatever else is listed, once a target ran.
 */
export function targetFolders(repo: string, branches: readonly string[], entries: Readonly<Record<string, FolderClaim>>): Map<string, string> {
  const prefix = `${repo}@`;
  const known = new Set(branches);
  for (const name of Object.keys(entries)) if (name.startsWith(prefix)) known.add(name.slice(prefix.length));
  const groups = new Map<string, string[]>();
  for (const branch of [...known].sort()) groups.set(fileName(branch), [...(groups.get(fileName(branch)) ?? []), branch]);
  const out = new Map<string, string>();
  for (const [plain, members] of groups) {
    const entry = (branch: string): FolderClaim | undefined => entries[prefix + branch];
    const recorded = (branch: string): string | undefined => {
      const folder = entry(branch)?.folder;
      return folder !== undefined && isOwnFolder(branch, folder) ? folder : undefined;
    };
    const ran = (branch: string): boolean => entry(branch)?.commit !== undefined || entry(branch)?.lastRun !== undefined;
    const free = members.filter((b) => recorded(b) === undefined);
    const owner = free.find(ran) ?? free[0];
    for (const branch of members) out.set(branch, branch === owner ? plain : (recorded(branch) ?? hashedFolder(branch, members)));
  }
  return out;
}

/** The folder of one target, as targetFolders gives it when nothing else is listed. */
export function targetFolder(repo: string, branch: string, entries: Readonly<Record<string, FolderClaim>>): string {
  return targetFolders(repo, [branch], entries).get(branch) ?? fileName(branch);
}

/** What a target's lock entry records as its `folder`: the longer name, when it has one; else nothing. */
export function recordedFolder(repo: RepoConfig): string | undefined {
  return repo.target !== undefined && repo.target.folder !== fileName(repo.branch ?? '') ? repo.target.folder : undefined;
}

/** `<plain>~<hex>`: 8 digits of the branch's SHA-256, more where two of `group` would share 8. */
function hashedFolder(branch: string, group: readonly string[]): string {
  const digest = (b: string): string => createHash('sha256').update(b, 'utf8').digest('hex');
  const own = digest(branch);
  const others = group.filter((b) => b !== branch).map(digest);
  let length = 8;
  while (length < own.length && others.some((d) => d.startsWith(own.slice(0, length)))) length += 8;
  return `${fileName(branch)}~${own.slice(0, length)}`;
}

/** A `folder` read from the lock is used only if it is one targetFolders could have given `branch`. */
function isOwnFolder(branch: string, folder: string): boolean {
  const hex = folder.startsWith(`${fileName(branch)}~`) ? folder.slice(fileName(branch).length + 1) : '';
  return /^[0-9a-f]{8,64}$/.test(hex) && createHash('sha256').update(branch, 'utf8').digest('hex').startsWith(hex);
}

/** `name@branch` → the glob repo and the branch, when `name` names one of its targets. */
export function parseTargetName(config: ResolvedConfig, name: string): { repo: RepoConfig & { branch: string }; branch: string } | undefined {
  const at = name.indexOf('@');
  if (at === -1) return undefined;
  const repo = config.repos.find((r) => r.name === name.slice(0, at));
  const branch = name.slice(at + 1);
  if (repo === undefined || !isBranchGlob(repo) || branchNameProblem(branch) !== undefined || !globMatcher(repo.branch)(branch)) return undefined;
  return { repo, branch };
}
