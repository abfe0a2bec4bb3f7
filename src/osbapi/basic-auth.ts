// HTTP Basic authentication with a comparison whose time does not depend on where the
// given credentials differ (both sides are hashed to equal length first). The expected
// credentials are read on every call, so a configuration reload replaces them at once.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface BasicCredentials {
  username: string;
  password: string;
}

export function basicAuthChecker(credentials: BasicCredentials | (() => BasicCredentials)): (header: string | undefined) => boolean {
  const current = typeof credentials === 'function' ? credentials : () => credentials;
  let expectedFor: BasicCredentials | undefined;
  let expected = Buffer.alloc(0);
  // Platforms send the same header on every call: once it has been accepted, compare the raw
  // header against it (constant time, equal lengths) instead of decoding and hashing again.
  let accepted: Buffer | undefined;
  return (header) => {
    const now = current();
    if (now !== expectedFor) {
      expectedFor = now;
      expected = digest(`${now.username}:${now.password}`);
      accepted = undefined;
    }
    if (!header) return false;
    if (accepted && header.length === accepted.length && timingSafeEqual(Buffer.from(header, 'latin1'), accepted)) return true;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return false;
    const ok = timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), expected);
    if (ok) accepted = Buffer.from(header, 'latin1');
    return ok;
  };
}

/** The username a Basic header tries (never the password), shortened, for the failed-login log line. */
export function triedUsername(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // Without a colon the whole value may be a password typed into the wrong place: say nothing.
  if (colon < 0) return undefined;
  return decoded.slice(0, Math.min(colon, 64)).replace(/[^\x20-\x7e]/g, '?');
}
