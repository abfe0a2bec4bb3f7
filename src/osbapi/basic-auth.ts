// HTTP Basic authentication with a comparison whose time does not depend on where the
// given credentials differ (both sides are hashed to equal length first).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function basicAuthChecker(username: string, password: string): (header: string | undefined) => boolean {
  const expected = digest(`${username}:${password}`);
  // Platforms send the same header on every call: once it has been accepted, compare the raw
  // header against it (constant time, equal lengths) instead of decoding and hashing again.
  let accepted: Buffer | undefined;
  return (header) => {
    if (!header) return false;
    if (accepted && header.length === accepted.length && timingSafeEqual(Buffer.from(header, 'latin1'), accepted)) return true;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return false;
    const ok = timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), expected);
    if (ok) accepted = Buffer.from(header, 'latin1');
    return ok;
  };
}
