// Keeps the PostgreSQL password out of error messages and logs.

/** The connection string with its password (userinfo or ?password=) replaced by '***'. */
export function redactConnectionString(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    // Not a URL: blank out anything between "//user:" and "@", the only place a password could be.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/password=[^&\s]*/gi, 'password=***');
  }
}

/** The password the connection string carries, if any (as pg reads it). */
export function passwordOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    const p = u.password !== '' ? decodeURIComponent(u.password) : u.searchParams.get('password') ?? '';
    return p === '' ? undefined : p;
  } catch {
    return /\/\/[^:/@]*:([^@]*)@/.exec(url)?.[1];
  }
}

/**
 * A copy of a driver error that cannot carry the password: a new Error (no cause, no extra fields
 * such as a URL parser's `input`) whose message has every form of the password blanked out.
 * Keeps the SQLSTATE `code` so callers can still tell errors apart.
 */
export function scrubError(err: unknown, password: string | undefined, prefix = ''): Error {
  let message = err instanceof Error ? err.message : String(err);
  if (password !== undefined) {
    for (const form of new Set([password, encodeURIComponent(password)])) message = message.split(form).join('***');
  }
  const safe = new Error(prefix + message);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(safe, { code });
  return safe;
}
