// Parsers for the short forms used in the file and in WARREN_* variables. Error messages
// name the key and never repeat a URL's credentials.

import { type ManagementUrl, ManagementUrlError, parseManagementUrl } from '../rabbitmq/management-url.ts';
import { ConfigError } from './config-error.ts';

export function parseListen(value: string, key: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${key}: "${value}" is not host:port (e.g. 127.0.0.1:8080)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** A management URL (src/rabbitmq/management-url.ts); a bad one is a ConfigError naming `key`. */
export function managementUrlAt(raw: string, key: string): ManagementUrl {
  try {
    return parseManagementUrl(raw, key);
  } catch (err) {
    if (err instanceof ManagementUrlError) throw new ConfigError(err.message);
    throw err;
  }
}
