// Generated from schema/gitwatch.schema.json by `npm run gen:types`. Do not edit by hand.
/* eslint-disable */

/**
 * How often the remote is checked for a new commit. Minimum 1s. Default: 60s
 */
export type RawDuration = (number | string)
/**
 * Time limit of one pipeline step; past it the step's whole process group is killed. Default: 30m
 */
export type RawDuration1 = (number | string)
/**
 * Time limit of one git command; a remote that stalls fails that repo's check. Minimum 1s. Default: 2m
 */
export type RawDuration2 = (number | string)
/**
 * Private key file for SSH remotes (ssh://, git@host:path). Relative to this file's folder. Used with IdentitiesOnly, so no other key is tried.
 */
export type SshKey = string
/**
 * known_hosts file that holds the SSH host keys of the remotes. Relative to this file's folder. Host keys are always checked: an unknown or changed key fails the check. Default: the user's ~/.ssh/known_hosts.
 */
export type KnownHosts = string
/**
 * A notification target: an HTTP(S) URL that gets a POST, or a shell command that gets the run as JSON on stdin.
 */
export type RawNotifyTarget = (RawNotifyUrl | RawNotifyCommand)
/**
 * Notification targets, called after each finished run that matches their `on`. A repo's list replaces the one in defaults.
 */
export type RawNotify = RawNotifyTarget[]
/**
 * The first wait; doubles after each try, at most 1h. Default: 30s.
 */
export type RawDuration3 = (number | string)
/**
 * Markers in the head commit's message that record it as skipped without running. Default: ["[skip ci]", "[ci skip]", "[gitwatch skip]"]; [] turns it off.
 */
export type RawSkipMarkers = string[]
/**
 * Repos with the same group never run their pipelines at the same time (two repos that deploy to one host), whatever `concurrency.pipelines` allows.
 */
export type Group = string
/**
 * A step: a shell command string, or an object with a name and options.
 */
export type RawStep = (string | RawStepObject)

/**
 * gitwatch.yaml: the git repositories gitwatch watches and the pipeline it runs on each new commit.
 */
export interface GitwatchConfig {
/**
 * Config format version. The only version is 1.
 */
version: 1
/**
 * Path of the state file that records the last processed commit per repo. Relative to this file's folder. Default: .gitwatch.lock.json
 */
state?: string
/**
 * Folder for checkouts, gitwatch's own git data and run logs. Relative to this file's folder. Default: .gitwatch
 */
workdir?: string
/**
 * Bearer token that lets the status page of `gitwatch run --listen` trigger, pause, resume and cancel repos (POST /api/repos/<name>/<action> with `Authorization: Bearer <token>`). Use ${VAR}: it is a secret, never printed, kept out of steps and masked in output. Without it the page is read-only.
 */
listen_token?: string
/**
 * How much runs at once. A number is the old form: how many remotes are checked and fetched at once (`checks`). Default: one pipeline at a time; checks 16 per CPU core, at least 16, at most 64.
 */
concurrency?: (number | RawConcurrency)
defaults?: RawDefaults
/**
 * The watched repositories. A map: the key is the repo's name.
 */
repos: {
[k: string]: RawRepo
}
}
export interface RawConcurrency {
/**
 * How many pipelines run at once, across repos (a branch glob's targets count one each). A repo never runs twice at once, and repos that share a `group` never run together. `once` honours it too. Default: 1.
 */
pipelines?: number
/**
 * How many remotes are checked and fetched at once. Default: 16 per CPU core, at least 16, at most 64.
 */
checks?: number
}
/**
 * Settings every repo inherits unless it sets them itself.
 */
export interface RawDefaults {
interval?: RawDuration
timeout?: RawDuration1
git_timeout?: RawDuration2
env?: RawEnv
ssh_key?: SshKey
known_hosts?: KnownHosts
notify?: RawNotify
retry?: RawRetry
skip_markers?: RawSkipMarkers
group?: Group
verify?: RawVerify
}
/**
 * Environment variables for the pipeline's steps. Values may use ${VAR} and ${VAR:-default}.
 */
export interface RawEnv {
[k: string]: (string | number | boolean)
}
export interface RawNotifyUrl {
/**
 * The runs to notify about: failure (a failed run), success (a succeeded run), recovered (a succeeded run after a failed one of the same repo).
 * 
 * @minItems 1
 */
on: [("failure" | "success" | "recovered"), ...(("failure" | "success" | "recovered"))[]]
/**
 * http(s) URL to POST to. May use ${VAR} (for tokens); never printed.
 */
url: string
/**
 * Body of the POST: json (the run as a JSON object), slack ({"text": ...}) or discord ({"content": ...}). Default: json
 */
format?: ("json" | "slack" | "discord")
}
export interface RawNotifyCommand {
/**
 * The runs to notify about: failure (a failed run), success (a succeeded run), recovered (a succeeded run after a failed one of the same repo).
 * 
 * @minItems 1
 */
on: [("failure" | "success" | "recovered"), ...(("failure" | "success" | "recovered"))[]]
/**
 * Command run with /bin/sh -c, the run as a JSON object on stdin; killed after 10s. Never interpolated by gitwatch.
 */
command: string
}
/**
 * Run a failed commit again: up to `attempts` more times, waiting `backoff` first and doubling it each time (at most 1h). A newer commit replaces the retries.
 */
export interface RawRetry {
/**
 * How many more tries after the first.
 */
attempts: number
backoff?: RawDuration3
}
/**
 * Deploy only signed commits: a head (or tag) whose signature is missing, bad, expired or not by one of these keys is not checked out and nothing runs. Checked by git itself (verify-commit, verify-tag) against a keyring gitwatch makes from these files alone, never the user's own. A repo's verify replaces the one in defaults. Give either gpg_keys or ssh_allowed_signers.
 */
export interface RawVerify {
/**
 * What must be signed: head (the commit that would run), tag (the annotated tag a 'tag:' repo follows; a lightweight tag is refused) or tag-and-head (both).
 */
mode: ("head" | "tag" | "tag-and-head")
/**
 * OpenPGP public key files (armored or binary, as `gpg --export` writes them), relative to this file's folder; may use ${VAR}. Signatures by these keys count, and only these: gpg must be on PATH.
 * 
 * @minItems 1
 */
gpg_keys?: [string, ...(string)[]]
/**
 * An SSH allowed-signers file (`principals [options] key-type key`, as ssh-keygen(1) describes under ALLOWED SIGNERS), relative to this file's folder; may use ${VAR}. Signatures by its keys count, and only these: ssh-keygen must be on PATH.
 */
ssh_allowed_signers?: string
}
/**
 * One watched repository and its pipeline: either `pipeline` (steps in order) or `jobs` (a graph of jobs), not both.
 */
export interface RawRepo {
/**
 * The remote: https, http, ssh, git@host:path, git://, file:// or a local path (relative to this file's folder).
 */
url: string
/**
 * The branch to follow, or a glob (`release/*`) whose every matching branch is its own target. Default: the remote's default branch.
 */
branch?: string
interval?: RawDuration
timeout?: RawDuration1
git_timeout?: RawDuration2
/**
 * Where the work tree lives. Relative to this file's folder. Default: <workdir>/<name>. gitwatch discards and rebuilds it at will.
 */
checkout?: string
env?: RawEnv
/**
 * The steps to run, in order, in the checkout. A repo has `pipeline` or `jobs`, not both.
 * 
 * @minItems 1
 */
pipeline?: [RawStep, ...(RawStep)[]]
/**
 * Jobs instead of `pipeline`: a map of job name to its steps. A job starts once every job it `needs` has succeeded; jobs that do not depend on each other run at the same time (at most `max_parallel`).
 */
jobs?: {
[k: string]: RawJob
}
/**
 * How many jobs of this repo may run at the same time. Default: 4.
 */
max_parallel?: number
ssh_key?: SshKey
known_hosts?: KnownHosts
notify?: RawNotify
/**
 * Shared secret of this repo's push webhook (POST /hooks/<name> on `gitwatch run --listen`): the HMAC key of GitHub's and Gitea's signatures, or GitLab's token. May use ${VAR}; never printed. Without it the repo has no webhook.
 */
webhook_secret?: string
retry?: RawRetry
/**
 * Run only when a changed file matches (gitignore-style: anchored at the repo root, `**` crosses folders, `!` excludes, the last matching pattern wins; only `!` patterns mean everything except). Otherwise the commit is recorded as skipped.
 * 
 * @minItems 1
 */
paths?: [string, ...(string)[]]
skip_markers?: RawSkipMarkers
/**
 * false: keep the repo in the config but do not check it. Default: true.
 */
enabled?: boolean
/**
 * Follow the highest tag matching this glob (`v*`) instead of a branch: by version order for names that parse as versions (a leading `v` allowed), else by name. Not with `branch`.
 */
tag?: string
/**
 * Pin the repo to this commit (a full 40-hex SHA, or 64-hex for SHA-256) instead of following `branch` or `tag`: it is fetched by its id and run once; nothing changes after that until the config does. The server must allow fetching a commit by id (git's default over protocol v2; else uploadpack.allowReachableSHA1InWant or uploadpack.allowAnySHA1InWant). Not with `branch` or `tag`. See docs/rollback.md.
 */
commit?: string
/**
 * With `tag`: follow the highest matching tag whose name (a leading `v` allowed) satisfies this semver range (`^1.4`). Pre-releases only when the range names one.
 */
semver?: string
/**
 * Commits of history to fetch: 1 (the default) fetches only the commit, 0 the full history. Deepened when a decision needs more. The checkout's `git log` sees as much.
 */
depth?: number
/**
 * Check out submodules, recursively, after the checkout. Their URLs pass the same rules as `url`. Default: false
 */
submodules?: boolean
group?: Group
verify?: RawVerify
}
export interface RawStepObject {
/**
 * The step's name in progress, logs and GITWATCH_STEP. Default: the command.
 */
name?: string
/**
 * The command, run with /bin/sh -c. Never interpolated by gitwatch: the shell expands it at run time.
 */
run: string
/**
 * Folder to run in, relative to the checkout.
 */
cwd?: string
timeout?: RawDuration1
env?: RawEnv
/**
 * When true, a failure of this step does not fail the pipeline and later steps still run.
 */
continue_on_error?: boolean
}
/**
 * A job: the jobs it needs, its environment and its steps, run in order.
 */
export interface RawJob {
/**
 * Jobs that must succeed before this one starts.
 */
needs?: string[]
env?: RawEnv
/**
 * The job's steps, run in order in the checkout.
 * 
 * @minItems 1
 */
steps: [RawStep, ...(RawStep)[]]
}
