// `${VAR}` and `${VAR:-default}` in the config values that allow it. `$${` stands for a literal `${`.

import { err, ok, type Env, type Result } from '../domain.js';

export interface Interpolation {
  readonly value: string;
  /** The variables whose values went into `value`. */
  readonly vars: readonly string[];
}

/** Where in the text, and why, a reference could not be replaced. */
export interface InterpolationProblem {
  readonly message: string;
  readonly index: number;
}

export type Interpolated = Result<Interpolation, InterpolationProblem>;

const TOKEN = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(text: string, env: Env): Interpolated {
  const vars: string[] = [];
  let out = '';
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index;
    out += text.slice(last, index);
    last = index + match[0].length;
    if (match[0] === '$${') {
      out += '${';
      continue;
    }
    const body = match[1] ?? '';
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    if (!NAME.test(name)) return err({ message: `invalid variable reference '\${${body}}'`, index });
    const value = env[name];
    if (value !== undefined && value !== '') {
      out += value;
      vars.push(name);
    } else if (sep !== -1) {
      out += body.slice(sep + 2);
    } else if (value === '') {
      vars.push(name);
    } else {
      return err({ message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)`, index });
    }
  }
  if (text.indexOf('${', last) !== -1) return err({ message: `unclosed '\${' (write $\${ for a literal)`, index: text.indexOf('${', last) });
  return ok({ value: out + text.slice(last), vars });
}
