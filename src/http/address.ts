// `--listen HOST:PORT`: checked before anything starts, so a typo is a usage error, not a daemon that
// listens nowhere.

import { isIP } from 'node:net';
import { err, ok, type Result } from '../domain.js';

export interface ListenAddress {
  /** As given, without the brackets of an IPv6 address. */
  readonly host: string;
  /** 0 lets the system choose; the daemon reports the port it got. */
  readonly port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseListen(text: string): Result<ListenAddress, string> {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) return err(`--listen expects HOST:PORT (like 127.0.0.1:9090 or [::1]:9090), found '${text}'`);
  const v6 = m[1];
  if (v6 !== undefined && isIP(v6) !== 6) return err(`--listen: '${v6}' is not an IPv6 address`);
  const host = v6 ?? m[2] ?? '';
  if (v6 === undefined && isIP(host) !== 4 && !HOSTNAME.test(host)) return err(`--listen: '${host}' is not a host name or IPv4 address`);
  return ok({ host, port });
}

/** The base URL of a bound server, for the log line that says where it listens. */
export function baseUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
