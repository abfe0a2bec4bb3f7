// Parsers for the short forms used in the file and in WARREN_* variables. Error messages
// name the key and never repeat a URL's credentials.

import { ConfigError } from './config-error.ts';

export function parseListen(value: string, key: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${key}: "${value}" is not host:port (e.g. 127.0.0.1:8080)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** A badly percent-encoded user or password is a configuration error naming the key, never a raw URIError. */
function decodeUserinfo(value: string, part: 'username' | 'password', key: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ConfigError(`${key}: the ${part} in the URL is not valid percent-encoding (write % as %25)`);
  }
}

/** Splits userinfo off a management URL; the URL returned has no credentials and no trailing slash. */
export function splitManagementUrl(raw: string, key: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${key}: not a valid URL (expected http(s)://[user:password@]host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`${key}: scheme must be http or https, not ${u.protocol.replace(':', '')}`);
  }
  const username = u.username ? decodeUserinfo(u.username, 'username', key) : undefined;
  const password = u.password ? decodeUserinfo(u.password, 'password', key) : undefined;
  u.username = '';
  u.password = '';
  const path = u.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return { url: `${u.protocol}//${u.host}${path}`, username, password };
}
