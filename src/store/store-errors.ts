// The store could not be reached (PostgreSQL down or restarting, a query past its timeout, the
// SQLite file busy): the request cannot be served now, but nothing is wrong with it. The broker
// answers 503 and the platform retries.
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const PG_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now
  '08000', '08003', '08006', '08001', '08004', // connection exceptions
  '53300', // too many connections
  '57014', // query canceled (statement_timeout)
]);

/** True for failures that mean "the database is not answering", not "the query is wrong". */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && (PG_UNAVAILABLE_CODES.has(e.code) || e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED')) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection timeout|Client has encountered a connection error|not queryable/i.test(msg);
}
