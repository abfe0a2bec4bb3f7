// Options of the management client, their defaults, and the parsing of node URLs into
// credential-free origins plus a pre-built Authorization header.
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ManagementUrlError, parseManagementUrl } from './management-url.ts';

/** pino-compatible: a pino Logger fits; only debug/info/warn are used. */
export interface LoggerLike {
  debug(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/** One HTTP exchange with one node (a call that fails over produces several). */
/** How one exchange ended, for metrics: answered (accepted or not), or why it did not. */
export type AttemptOutcome =
  | 'ok' // an accepted status
  | 'error_status' // an answer the call does not accept (4xx, 500)
  | 'unavailable_status' // 502/503/504: the node cannot serve now
  | 'timeout' // the attempt's own deadline passed (a stalled node)
  | 'deadline' // the request's budget ran out
  | 'aborted' // the caller's signal
  | 'transport'; // refused, reset, garbage, cut body, ...

export interface CallEvent {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path with names replaced by {}, e.g. '/api/users/{}': low cardinality, for metric labels. */
  pathTemplate: string;
  /** HTTP status; undefined when the exchange failed in transport. */
  status: number | undefined;
  /** Transport error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...) when status is undefined. */
  errorCode?: string;
  durationMs: number;
  /** Node origin without credentials. */
  node: string;
  /** 1 for the first exchange of a call, 2+ for failovers and retries; 0 for a health probe. */
  attempt: number;
  outcome: AttemptOutcome;
}

export interface RetryOptions {
  /** Rounds over all nodes for idempotent calls (each round tries every node once). Default 3. */
  maxRounds?: number;
  /** Backoff between rounds: base * 2^(round-1), capped, with jitter. Defaults 50 ms / 1000 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * No new attempt starts after this much time since the call began. Default 30 s. Applies
   * to calls made outside any request budget (src/deadline); inside one, the budget rules.
   */
  budgetMs?: number;
}

export interface HealthOptions {
  /** A node that is up but had no exchange for this long is probed. Default 15 s. */
  probeIntervalMs?: number;
  /** First probe of a suspect or down node, doubled per failed probe. Default 500 ms. */
  probeMinDelayMs?: number;
  /** Longest wait between probes of a failing node. Default 10 s. */
  probeMaxDelayMs?: number;
}

export interface ManagementClientOptions {
  /**
   * Management base URLs, e.g. 'http://admin:secret@10.0.0.1:15672' or 'https://rmq:15671/prefix'.
   * Userinfo carries that node's admin credentials; it never appears in errors or logs.
   */
  urls: string | readonly string[];
  /** Credentials for URLs without userinfo. */
  username?: string;
  password?: string;
  /**
   * Credentials for URLs without userinfo, read at every call (they win over username/password):
   * a configuration reload replaces the admin account without a new client.
   */
  credentials?: () => { username: string; password: string };
  /** Max sockets per node. Default 32 (as rabbitmq.pool.connections). */
  connectionsPerNode?: number;
  /** Idle keep-alive; must stay below cowboy's idle_timeout (60 s measured on 3.10). Default 30 s. */
  keepAliveTimeoutMs?: number;
  /** Default 3 s. */
  connectTimeoutMs?: number;
  /** Time to the response headers; a hanging node fails over after this. Default 15 s. */
  headersTimeoutMs?: number;
  /** Max gap between body chunks. Default 15 s. */
  bodyTimeoutMs?: number;
  /**
   * Deadline of one exchange with one node: connect, headers and body together. A node that
   * does not answer within it is marked down and the call moves on. Default 5 s.
   */
  attemptTimeoutMs?: number;
  health?: HealthOptions;
  /** Bound on a response body read for a caller. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Bound on an error body read to extract error/reason. Default 64 KiB. */
  maxErrorBodyBytes?: number;
  retry?: RetryOptions;
  /** close() waits this long for in-flight calls before destroying sockets. Default 10 s. */
  closeTimeoutMs?: number;
  /** TLS options for https nodes (ca, cert, key, servername, rejectUnauthorized, ...). */
  tls?: TlsOptions;
  logger?: LoggerLike;
  /** Called after every HTTP exchange; exceptions it throws are ignored. */
  onCall?: (event: CallEvent) => void;
}

export interface ResolvedOptions {
  connectionsPerNode: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  attemptTimeoutMs: number;
  probeIntervalMs: number;
  probeMinDelayMs: number;
  probeMaxDelayMs: number;
  maxBodyBytes: number;
  maxErrorBodyBytes: number;
  maxRounds: number;
  baseDelayMs: number;
  maxDelayMs: number;
  budgetMs: number;
  closeTimeoutMs: number;
}

export const DEFAULTS: ResolvedOptions = {
  connectionsPerNode: 32,
  keepAliveTimeoutMs: 30_000,
  connectTimeoutMs: 3_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 15_000,
  attemptTimeoutMs: 5_000,
  probeIntervalMs: 15_000,
  probeMinDelayMs: 500,
  probeMaxDelayMs: 10_000,
  maxBodyBytes: 8 * 1024 * 1024,
  maxErrorBodyBytes: 64 * 1024,
  maxRounds: 3,
  baseDelayMs: 50,
  maxDelayMs: 1_000,
  budgetMs: 30_000,
  closeTimeoutMs: 10_000,
};

export function resolveOptions(o: ManagementClientOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    connectionsPerNode: o.connectionsPerNode ?? DEFAULTS.connectionsPerNode,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    headersTimeoutMs: o.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
    bodyTimeoutMs: o.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
    attemptTimeoutMs: o.attemptTimeoutMs ?? DEFAULTS.attemptTimeoutMs,
    probeIntervalMs: o.health?.probeIntervalMs ?? DEFAULTS.probeIntervalMs,
    probeMinDelayMs: o.health?.probeMinDelayMs ?? DEFAULTS.probeMinDelayMs,
    probeMaxDelayMs: o.health?.probeMaxDelayMs ?? DEFAULTS.probeMaxDelayMs,
    maxBodyBytes: o.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    maxErrorBodyBytes: o.maxErrorBodyBytes ?? DEFAULTS.maxErrorBodyBytes,
    maxRounds: o.retry?.maxRounds ?? DEFAULTS.maxRounds,
    baseDelayMs: o.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs,
    maxDelayMs: o.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs,
    budgetMs: o.retry?.budgetMs ?? DEFAULTS.budgetMs,
    closeTimeoutMs: o.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`management client option ${k} must be a finite number >= 0`);
  }
  if (r.attemptTimeoutMs < 1) throw new RangeError('management client option attemptTimeoutMs must be >= 1');
  if (r.connectionsPerNode < 1 || r.maxRounds < 1) throw new RangeError('connectionsPerNode and retry.maxRounds must be >= 1');
  return r;
}

export interface NodeTarget {
  /** scheme://host:port, no userinfo: what undici connects to and what errors name. */
  origin: string;
  /** Path prefix (management.path_prefix or a reverse proxy), '' or '/something'. */
  pathPrefix: string;
  /** origin + pathPrefix: the node's name in errors, logs and stats. */
  name: string;
  /** 'Basic ...', built once (or again when live credentials change). */
  readonly authorization: string;
}

const basic = (username: string, password: string): string => 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');

/** An Authorization header that follows live credentials, re-encoded only when they change. */
function liveAuthorization(credentials: () => { username: string; password: string }): () => string {
  let seen: { username: string; password: string } | undefined;
  let header = '';
  return () => {
    const now = credentials();
    if (now !== seen) {
      seen = now;
      header = basic(now.username, now.password);
    }
    return header;
  };
}

/** The configured URLs as nodes; errors name a URL by its position only (management-url.ts). */
export function parseNodes(o: Pick<ManagementClientOptions, 'urls' | 'username' | 'password' | 'credentials'>): NodeTarget[] {
  const urls = typeof o.urls === 'string' ? [o.urls] : o.urls;
  if (!Array.isArray(urls) || urls.length === 0) throw new TypeError('management client needs at least one URL');
  return urls.map((raw, i) => {
    const u = parseManagementUrl(raw, `management URL #${i + 1}`);
    const where = { origin: u.origin, pathPrefix: u.pathPrefix, name: u.base };
    if (u.username === undefined && o.credentials) {
      const live = liveAuthorization(o.credentials);
      return { ...where, get authorization() { return live(); } };
    }
    const username = u.username ?? o.username;
    const password = u.password ?? o.password;
    if (username === undefined || password === undefined) {
      throw new ManagementUrlError(`management URL #${i + 1} has no credentials and no username/password option was given`);
    }
    return { ...where, authorization: basic(username, password) };
  });
}
