// The config as written, after schema validation (before defaults and interpolation). The shapes come from
// the JSON Schema, through the generated schema-types.ts.

export type {
  GitwatchConfig as RawConfig,
  RawDefaults as RawSettings,
  RawEnv,
  RawJob,
  RawNotify,
  RawRepo,
  RawRetry,
  RawStep,
  RawStepObject,
  RawVerify,
} from './schema-types.js';
