// The config as written, after schema validation (before defaults and interpolation).

export type RawDuration = string | number;
export type RawEnv = Readonly<Record<string, string | number | boolean>>;

export interface RawStepObject {
  readonly name?: string;
  readonly run: string;
  readonly cwd?: string;
  readonly timeout?: RawDuration;
  readonly env?: RawEnv;
  readonly continue_on_error?: boolean;
}

export type RawStep = string | RawStepObject;

export interface RawSettings {
  readonly interval?: RawDuration;
  readonly timeout?: RawDuration;
  readonly git_timeout?: RawDuration;
  readonly env?: RawEnv;
}

export interface RawRepo extends RawSettings {
  readonly url: string;
  readonly branch?: string;
  readonly checkout?: string;
  readonly pipeline: readonly RawStep[];
}

export interface RawConfig {
  readonly version: 1;
  readonly state?: string;
  readonly workdir?: string;
  readonly defaults?: RawSettings;
  readonly repos: Readonly<Record<string, RawRepo>>;
}
