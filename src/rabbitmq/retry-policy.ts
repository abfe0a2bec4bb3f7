// Which transport failures may be retried on another node, and how long to wait between rounds.

/** Failures that happen before a request could reach the server: safe to retry for any method. */
const CONNECT_PHASE = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/** Failures that are our own doing (closed client, caller abort, bad argument): never retried. */
const FINAL = new Set([
  'UND_ERR_ABORTED',
  'ABORT_ERR',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR',
]);

/** Status codes meaning "this node cannot serve now": a proxy/LB in front of a down node. */
export const FAILOVER_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name;
  }
  return 'UNKNOWN';
}

export function isFinalCode(code: string): boolean {
  return FINAL.has(code) || code === 'AbortError' || code === 'TimeoutError';
}

export function isConnectPhaseCode(code: string): boolean {
  return CONNECT_PHASE.has(code);
}

/**
 * The request never left this process: refused or unreachable while connecting, or no socket
 * could be opened here (out of file descriptors). A write that failed so is not in doubt.
 */
export function neverSent(code: string): boolean {
  return CONNECT_PHASE.has(code) || code === 'EMFILE' || code === 'ENFILE';
}

/** Exponential backoff with equal jitter: half fixed, half random, so rounds stay spaced. */
export function backoffDelay(round: number, baseMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, round - 1));
  return cap / 2 + Math.random() * (cap / 2);
}
