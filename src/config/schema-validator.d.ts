// The validator scripts/build-validator.mjs compiles from the JSON Schema at build time.

import type { ErrorObject } from 'ajv';

declare const validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
export default validate;
