// The one place where HTTP happens. Every management call goes through RequestFunnel.request,
// which owns the response body on every path: it is read (bounded), dumped or destroyed before
// request() returns or throws, and no undici response ever leaves this file. Un-drained bodies
// leave sockets in CLOSE_WAIT until the process runs out of file descriptors (see
// shared/seed/always-close-the-response-body.txt).
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import {
  ManagementClientError,
  ManagementError,
  ManagementProtocolError,
  ManagementTransportError,
  ManagementUnavailableError,
  normalizeReason,
  type HttpMethod,
} from './errors.ts';
import type { CallEvent, LoggerLike, ManagementClientOptions, NodeTarget, ResolvedOptions } from './options.ts';
import { BodyTooLargeError, dumpBody, readBodyText } from './response-body.ts';
import { FAILOVER_STATUSES, backoffDelay, errorCode, isConnectPhaseCode, isFinalCode } from './retry-policy.ts';

export type { HttpMethod } from './errors.ts';

/** How an accepted 2xx body is consumed. Non-2xx accepted bodies (e.g. 404) are always dumped. */
export type ReadMode = 'json' | 'text' | 'dump';

export interface FunnelRequest {
  method: HttpMethod;
  /** Percent-encoded path starting with /api/. */
  path: string;
  /** Low-cardinality template for metrics, e.g. '/api/users/{}'. */
  template: string;
  /** JSON, serialized once by the caller; reused as-is by retries. Never logged. */
  body?: string;
  /** Statuses returned to the caller; any other status throws. */
  ok: readonly number[];
  read: ReadMode;
  /** Extra request headers (rare, e.g. X-Reason); merged per call. */
  headers?: Record<string, string>;
  /** Default true (GET/PUT/DELETE are idempotent in this API): retried and failed over freely. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface FunnelResponse {
  status: number;
  /** Parsed body when read === 'json' and the status is 2xx (undefined for 204). */
  json?: unknown;
  /** Body when read === 'text' and the status is 2xx. */
  text?: string;
}

export interface FunnelCounters {
  /** Logical calls by method (a call that fails over counts once). */
  calls: Record<HttpMethod, number>;
  /** HTTP exchanges, including failovers and retries. */
  attempts: number;
  /** Attempts that moved on to another node or round. */
  failovers: number;
  /** Responses with status >= 400, by status (404s mapped to null/false count too). */
  errorsByStatus: Record<string, number>;
  /** Transport failures by code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...). */
  transportErrors: Record<string, number>;
  /** Body bytes read and kept (dumped bodies are not counted). */
  bodyBytesRead: number;
}

export interface NodeStats {
  /** Node origin (+ path prefix), without credentials. */
  origin: string;
  /** The node calls start at (the last one that answered). */
  preferred: boolean;
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
}

export interface ClientStats {
  nodes: NodeStats[];
  counters: FunnelCounters;
}

interface Node {
  target: NodeTarget;
  pool: Pool;
  /** Pre-built header objects, reused by every call (undici does not mutate them). */
  readHeaders: Record<string, string>;
  writeHeaders: Record<string, string>;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: ManagementTransportError };

export class RequestFunnel {
  private readonly nodes: Node[];
  private readonly names: readonly string[];
  private readonly o: ResolvedOptions;
  private readonly logger: LoggerLike | undefined;
  private readonly onCall: ((e: CallEvent) => void) | undefined;
  private preferred = 0;
  private closing: Promise<void> | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  private readonly calls: Record<HttpMethod, number> = { GET: 0, PUT: 0, DELETE: 0 };
  private attempts = 0;
  private failovers = 0;
  private bodyBytesRead = 0;
  private readonly errorsByStatus = new Map<number, number>();
  private readonly transportErrors = new Map<string, number>();

  constructor(targets: readonly NodeTarget[], o: ResolvedOptions, opts: Pick<ManagementClientOptions, 'tls' | 'logger' | 'onCall'>) {
    this.o = o;
    this.logger = opts.logger;
    this.onCall = opts.onCall;
    this.names = targets.map((t) => t.name);
    this.nodes = targets.map((target) => {
      const tls = target.origin.startsWith('https:') ? opts.tls : undefined;
      const pool = new Pool(target.origin, {
        connections: o.connectionsPerNode,
        pipelining: 1,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        // Server keep-alive hints must not stretch the idle time past what we chose.
        keepAliveMaxTimeout: o.keepAliveTimeoutMs,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
        connect: { ...tls, timeout: o.connectTimeoutMs },
      });
      // No Accept header: 3.10 answers 406 to PUT/DELETE vhost-limits and user-limits with
      // 'Accept: application/json'. Every resource answers JSON anyway.
      // Getters: the Authorization header is read per request (admin credentials can be reloaded).
      const readHeaders = { get authorization() { return target.authorization; } };
      const writeHeaders = { get authorization() { return target.authorization; }, 'content-type': 'application/json' };
      return { target, pool, readHeaders, writeHeaders };
    });
  }

  /** Sends a request with failover; `parse` runs after the body is consumed. */
  request(req: FunnelRequest): Promise<FunnelResponse>;
  request<T>(req: FunnelRequest, parse: (res: FunnelResponse) => T): Promise<T>;
  async request<T>(req: FunnelRequest, parse?: (res: FunnelResponse) => T): Promise<T | FunnelResponse> {
    if (this.closing) {
      throw new ManagementUnavailableError(
        `RabbitMQ management client is closed (${req.method} ${req.path})`,
        { method: req.method, path: req.path, node: this.names[this.preferred] ?? '' },
        0,
        this.names,
      );
    }
    this.calls[req.method]++;
    this.inFlight++;
    try {
      return await this.withFailover(req, parse);
    } finally {
      if (--this.inFlight === 0 && this.idle) this.idle();
    }
  }

  private async withFailover<T>(req: FunnelRequest, parse?: (res: FunnelResponse) => T): Promise<T | FunnelResponse> {
    const n = this.nodes.length;
    const idempotent = req.idempotent ?? true;
    const rounds = idempotent ? this.o.maxRounds : 1;
    const started = performance.now();
    let attempt = 0;
    let last: ManagementTransportError | undefined;
    rounds: for (let round = 0; round < rounds; round++) {
      if (round > 0) {
        const delay = backoffDelay(round, this.o.baseDelayMs, this.o.maxDelayMs);
        if (performance.now() - started + delay > this.o.budgetMs) break;
        await sleep(delay, undefined, req.signal ? { signal: req.signal } : undefined);
      }
      const first = this.preferred;
      for (let k = 0; k < n; k++) {
        const idx = (first + k) % n;
        const node = this.nodes[idx]!;
        const result = await this.attempt(node, req, ++attempt, parse);
        if (result.ok) {
          if (this.preferred !== idx) {
            this.preferred = idx;
            this.logger?.warn({ node: node.target.name, attempt }, 'rabbitmq management: switched to node');
          }
          return result.value;
        }
        last = result.error;
        if (!idempotent && !isConnectPhaseCode(last.code)) break rounds;
        if (performance.now() - started > this.o.budgetMs) break rounds;
        this.failovers++;
        this.logger?.warn(
          { node: node.target.name, code: last.code, method: req.method, path: req.template, attempt },
          'rabbitmq management: node failed, trying the next',
        );
      }
    }
    const node = last?.node ?? this.names[this.preferred] ?? '';
    throw new ManagementUnavailableError(
      `no RabbitMQ management node answered ${req.method} ${req.path} after ${attempt} attempt(s) ` +
        `[${this.names.join(', ')}]${last ? `; last: ${last.code} on ${last.node}` : ''}`,
      { method: req.method, path: req.path, node },
      attempt,
      this.names,
      last,
    );
  }

  /**
   * One HTTP exchange with one node. Returns a transport failure (to fail over) or a value;
   * throws ManagementError / ManagementProtocolError / abort errors, which end the call.
   */
  private async attempt<T>(
    node: Node,
    req: FunnelRequest,
    attemptNo: number,
    parse?: (res: FunnelResponse) => T,
  ): Promise<Attempt<T | FunnelResponse>> {
    this.attempts++;
    const t0 = performance.now();
    const base = req.body === undefined ? node.readHeaders : node.writeHeaders;
    let res: Dispatcher.ResponseData;
    try {
      res = await node.pool.request({
        path: node.target.pathPrefix + req.path,
        method: req.method,
        headers: req.headers ? { ...base, ...req.headers } : base,
        body: req.body,
        signal: req.signal,
      });
    } catch (err) {
      return this.transportFailure(node, req, err, t0, attemptNo);
    }

    const status = res.statusCode;
    const body = res.body;
    let failedInTransport = false;
    try {
      if (req.ok.includes(status)) {
        const out: FunnelResponse = { status };
        if (status >= 200 && status < 300 && status !== 204 && req.read !== 'dump') {
          const { text, bytes } = await readBodyText(body, res.headers['content-length'], this.o.maxBodyBytes);
          this.bodyBytesRead += bytes;
          if (req.read === 'text') out.text = text;
          else {
            try {
              out.json = JSON.parse(text);
            } catch (err) {
              throw new ManagementProtocolError('response body is not valid JSON', status, this.where(node, req), { cause: err });
            }
          }
        } else {
          await dumpBody(body);
        }
        if (status >= 400) this.countStatus(status);
        if (!parse) return { ok: true, value: out };
        try {
          return { ok: true, value: parse(out) };
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new ManagementProtocolError(`unexpected response: ${msg}`, status, this.where(node, req), { cause: err });
        }
      }

      this.countStatus(status);
      if (FAILOVER_STATUSES.has(status)) {
        await dumpBody(body);
        const error = new ManagementTransportError(`HTTP_${status}`, 'node answered ' + status, this.where(node, req), { status });
        return { ok: false, error };
      }

      // An error status: read (bounded) what RabbitMQ says and throw it typed.
      let error = '';
      let reason = '';
      try {
        const { text, bytes } = await readBodyText(body, res.headers['content-length'], this.o.maxErrorBodyBytes);
        this.bodyBytesRead += bytes;
        if (text) {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === 'object') {
            const p = parsed as { error?: unknown; reason?: unknown };
            error = normalizeReason(p.error);
            reason = normalizeReason(p.reason);
          }
        }
      } catch (err) {
        if (!(err instanceof SyntaxError || err instanceof BodyTooLargeError)) throw err;
        reason = err instanceof BodyTooLargeError ? `(error body over ${err.limit} bytes)` : '(error body is not JSON)';
      }
      throw new ManagementError(status, error, reason, this.where(node, req));
    } catch (err) {
      if (err instanceof ManagementClientError) throw err;
      if (err instanceof BodyTooLargeError) {
        throw new ManagementProtocolError(err.message, status, this.where(node, req));
      }
      // Reading the body failed: socket cut, body timeout, abort.
      failedInTransport = true;
      return this.transportFailure(node, req, err, t0, attemptNo);
    } finally {
      // Whatever happened above, the body does not outlive this exchange. A destroyed,
      // unfinished body makes undici close that socket instead of leaving it half-read.
      if (!body.destroyed) body.destroy();
      if (!failedInTransport) this.emit(node, req, status, undefined, t0, attemptNo);
    }
  }

  /** Classifies a transport failure: returned for failover, or thrown when final. */
  private transportFailure(node: Node, req: FunnelRequest, err: unknown, t0: number, attemptNo: number): Attempt<never> {
    const code = errorCode(err);
    this.transportErrors.set(code, (this.transportErrors.get(code) ?? 0) + 1);
    this.emit(node, req, undefined, code, t0, attemptNo);
    if (req.signal?.aborted) throw req.signal.reason ?? err;
    const where = this.where(node, req);
    if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') {
      throw new ManagementUnavailableError(`RabbitMQ management client is closed (${req.method} ${req.path})`, where, attemptNo, this.names, err);
    }
    const detail = err instanceof Error ? err.message : String(err);
    const error = new ManagementTransportError(code, detail, where, { cause: err });
    if (isFinalCode(code)) throw error;
    return { ok: false, error };
  }

  private where(node: Node, req: FunnelRequest): { method: HttpMethod; path: string; node: string } {
    return { method: req.method, path: req.path, node: node.target.name };
  }

  private countStatus(status: number): void {
    this.errorsByStatus.set(status, (this.errorsByStatus.get(status) ?? 0) + 1);
  }

  private emit(node: Node, req: FunnelRequest, status: number | undefined, errorCode: string | undefined, t0: number, attempt: number): void {
    const log = this.logger && (this.logger.isLevelEnabled ? this.logger.isLevelEnabled('debug') : true);
    if (!this.onCall && !log) return;
    const event: CallEvent = {
      method: req.method,
      pathTemplate: req.template,
      status,
      durationMs: performance.now() - t0,
      node: node.target.name,
      attempt,
    };
    if (errorCode !== undefined) event.errorCode = errorCode;
    if (this.onCall) {
      try {
        this.onCall(event);
      } catch {
        // A metrics hook must not turn a successful call into a failure.
      }
    }
    if (log) this.logger!.debug(event, 'rabbitmq management call');
  }

  stats(): ClientStats {
    return {
      nodes: this.nodes.map((n, i) => {
        const s = n.pool.stats;
        return {
          origin: n.target.name,
          preferred: i === this.preferred,
          connected: s.connected,
          free: s.free,
          pending: s.pending,
          queued: s.queued,
          running: s.running,
          size: s.size,
        };
      }),
      counters: {
        calls: { ...this.calls },
        attempts: this.attempts,
        failovers: this.failovers,
        errorsByStatus: Object.fromEntries([...this.errorsByStatus].map(([k, v]) => [String(k), v])),
        transportErrors: Object.fromEntries(this.transportErrors),
        bodyBytesRead: this.bodyBytesRead,
      },
    };
  }

  /** Refuses new calls, waits (bounded) for in-flight ones, closes the pools, then destroys them. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const deadline = performance.now() + this.o.closeTimeoutMs;
    const bounded = async (p: Promise<unknown>): Promise<void> => {
      const left = Math.max(0, deadline - performance.now());
      const ac = new AbortController();
      await Promise.race([p, sleep(left, undefined, { signal: ac.signal }).catch(() => undefined)]);
      ac.abort();
    };
    if (this.inFlight > 0) await bounded(new Promise<void>((resolve) => (this.idle = resolve)));
    await bounded(Promise.allSettled(this.nodes.map((n) => n.pool.close())));
    await Promise.allSettled(this.nodes.map((n) => n.pool.destroy()));
  }
}
