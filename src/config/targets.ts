// A repo whose `branch` is a glob stands for one target per matching branch: `<name>@<branch>`, with its
// own lock entry, checkout (`<checkout>@<branch>`, '/' written as '-'), store and run logs.

import { fileName } from '../domain.js';
import { branchNameProblem } from '../rules/ref-name.js';
import { globMatcher, isGlob } from '../rules/ref-pattern.js';
import type { RepoConfig, ResolvedConfig } from './types.js';

/** The repo follows every branch that matches its `branch` glob. */
export function isBranchGlob(repo: RepoConfig): repo is RepoConfig & { branch: string } {
  return repo.target === undefined && repo.branch !== undefined && isGlob(repo.branch);
}

/** The target of `repo` (a branch glob) for `branch`. */
export function targetOf(repo: RepoConfig & { branch: string }, branch: string): RepoConfig {
  return {
    ...repo,
    name: targetName(repo.name, branch),
    branch,
    checkout: `${repo.checkout}@${fileName(branch)}`,
    target: { repo: repo.name, pattern: repo.branch },
  };
}

export function targetName(repo: string, branch: string): string {
  return `${repo}@${branch}`;
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
