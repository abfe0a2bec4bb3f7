// HTTP Basic authentication with a comparison whose time does not depend on where the
// given credentials differ (both sides are hashed to equal length first).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function basicAuthChecker(username: string, password: string): (header: string | undefined) => boolean {
  const expected = digest(`${username}:${password}`);
  return (header) => {
    if (!header) return false;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), expected);
  };
}
