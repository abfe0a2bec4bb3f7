// The one place where HTTP happens. Every management call goes through RequestFunnel.request,
// which owns the response body on every path: it is read (bounded), dumped or destroyed before
// request() returns or throws, and no undici response ever leaves this file. Un-drained bodies
// leave sockets in CLOSE_WAIT until the process runs out of file descriptors (see
// shared/seed/always-close-the-response-body.txt).
//
// Time: every attempt has its own deadline (connect + headers + body, attemptTimeoutMs), and
// the whole call is bounded by the current request budget (src/deadline) when there is one:
// retries and failover happen only inside it, and when it is spent the call ends at once with
// ManagementDeadlineError. Node health (node-health.ts) orders the nodes: a node that stalled
// or refused is skipped until a background probe sees it answer again.
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { currentBudget, DeadlineExceededError, detached, type Budget } from '../deadline/budget.ts';
import { AttemptDeadline } from './attempt-deadline.ts';
import {
  ManagementClientError,
  ManagementDeadlineError,
  ManagementError,
  ManagementProtocolError,
  ManagementTransportError,
  ManagementUnavailableError,
  type HttpMethod,
} from './errors.ts';
import { NodeHealth, type NodeHealthView, type NodeState } from './node-health.ts';
import type { AttemptOutcome, CallEvent, LoggerLike, ManagementClientOptions, NodeTarget, ResolvedOptions } from './options.ts';
import { BodyTooLargeError, dumpBody, normalizeReason, readBodyText } from './response-body.ts';
import { Pool } from './undici-pool.ts';
import { FAILOVER_STATUSES, backoffDelay, errorCode, isConnectPhaseCode, isFinalCode, neverSent } from './retry-policy.ts';

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
  /** Calls ended because the request budget ran out. */
  deadlineExceeded: number;
  /** Health probes sent (not counted in attempts). */
  probes: number;
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
  /** The node that answered the last call. */
  preferred: boolean;
  /** What the client knows of the node (see node-health.ts). */
  state: NodeState;
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

  private readonly calls: Record<HttpMethod, number> = { GET: 0, PUT: 0, POST: 0, DELETE: 0 };
  private attempts = 0;
  private failovers = 0;
  private deadlineExceeded = 0;
  private probes = 0;
  private readonly health: NodeHealth;
  /** Per node: the pending probe timer, the next probe delay, when it last exchanged anything. */
  private readonly probeTimers: Array<NodeJS.Timeout | undefined>;
  /** When each pending probe timer fires (performance.now() scale), and whether a probe is out. */
  private readonly probeDue: number[];
  private readonly probing: boolean[];
  private readonly probeDelay: number[];
  private readonly lastExchange: number[];
  private readonly probesInFlight = new Set<AttemptDeadline>();
  /** startProbing() was called: up nodes are kept fresh too, not only failing ones. */
  private keepFresh = false;
  private bodyBytesRead = 0;
  private readonly errorsByStatus = new Map<number, number>();
  private readonly transportErrors = new Map<string, number>();

  constructor(targets: readonly NodeTarget[], o: ResolvedOptions, opts: Pick<ManagementClientOptions, 'tls' | 'logger' | 'onCall'>) {
    this.o = o;
    this.logger = opts.logger;
    this.onCall = opts.onCall;
    this.names = targets.map((t) => t.name);
    this.health = new NodeHealth(this.names, (i, from, to, code) => this.stateChanged(i, from, to, code));
    this.probeTimers = targets.map(() => undefined);
    this.probeDue = targets.map(() => 0);
    this.probing = targets.map(() => false);
    this.probeDelay = targets.map(() => o.probeMinDelayMs);
    this.lastExchange = targets.map(() => 0);
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
    const budget = currentBudget();
    if (budget?.expired()) throw this.deadlineError(req, 0, undefined);
    this.inFlight++;
    try {
      return await this.withFailover(req, budget, parse);
    } finally {
      if (--this.inFlight === 0 && this.idle) this.idle();
    }
  }

  private async withFailover<T>(
    req: FunnelRequest,
    budget: Budget | undefined,
    parse?: (res: FunnelResponse) => T,
  ): Promise<T | FunnelResponse> {
    const idempotent = req.idempotent ?? true;
    const rounds = idempotent ? this.o.maxRounds : 1;
    const started = performance.now();
    let attempt = 0;
    let last: ManagementTransportError | undefined;
    rounds: for (let round = 0; round < rounds; round++) {
      if (round > 0) {
        const delay = backoffDelay(round, this.o.baseDelayMs, this.o.maxDelayMs);
        if (budget) {
          // Waiting past the budget only to fail then helps nobody: fail now.
          if (delay >= budget.remaining()) throw this.deadlineError(req, attempt, last);
        } else if (performance.now() - started + delay > this.o.budgetMs) break;
        await this.pause(delay, budget, req, attempt, last);
      }
      // Healthy nodes first, down ones skipped (see NodeHealth.callOrder): re-read every round.
      const order = this.health.callOrder();
      if (order.length === 0) break; // every node stalled: fail now, the probe brings them back
      for (const idx of order) {
        // A node that stalled meanwhile (for another call or a probe) is not worth a deadline.
        if (this.health.stalledDown(idx)) continue;
        const node = this.nodes[idx]!;
        const result = await this.attemptNoting(node, idx, req, ++attempt, budget, parse);
        if (result.ok) {
          if (this.preferred !== idx) {
            this.preferred = idx;
            this.logger?.warn({ node: node.target.name, attempt }, 'rabbitmq management: switched to node');
          }
          return result.value;
        }
        last = result.error;
        if (!idempotent && !isConnectPhaseCode(last.code)) break rounds;
        if (!budget && performance.now() - started > this.o.budgetMs) break rounds;
        if (budget?.expired()) throw this.deadlineError(req, attempt, last);
        this.failovers++;
        this.logger?.warn(
          { node: node.target.name, code: last.code, method: req.method, path: req.template, attempt },
          'rabbitmq management: node failed, trying the next',
        );
      }
    }
    const node = last?.node ?? this.names[this.preferred] ?? '';
    const why = last ? `; last: ${last.code} on ${last.node}` : '; every node is down after stalling, left to the health probe';
    throw new ManagementUnavailableError(
      `no RabbitMQ management node answered ${req.method} ${req.path} after ${attempt} attempt(s) [${this.names.join(', ')}]${why}`,
      { method: req.method, path: req.path, node },
      attempt,
      this.names,
      last,
    );
  }

  /** Backoff between rounds, cut short by the budget (a deadline error) or the caller. */
  private async pause(ms: number, budget: Budget | undefined, req: FunnelRequest, attempts: number, last: ManagementTransportError | undefined): Promise<void> {
    const signals = [budget?.signal, req.signal].filter((x): x is AbortSignal => x !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      await sleep(ms, undefined, signal ? { signal } : undefined);
    } catch (err) {
      if (budget?.expired()) throw this.deadlineError(req, attempts, last);
      throw req.signal?.reason ?? err;
    }
  }

  private deadlineError(req: FunnelRequest, attempts: number, last: ManagementTransportError | undefined): ManagementDeadlineError {
    this.deadlineExceeded++;
    return new ManagementDeadlineError(
      `RabbitMQ management ${req.method} ${req.path}: the request's time budget ran out after ${attempts} attempt(s) ` +
        `[${this.names.join(', ')}]${last ? `; last: ${last.code} on ${last.node}` : ''}`,
      { method: req.method, path: req.path, node: last?.node ?? this.names[this.preferred] ?? '' },
      attempts,
      this.names,
      last ?? new DeadlineExceededError(),
    );
  }

  /**
   * An attempt that tells the budget when a write's outcome is unknown: sent (not refused while
   * connecting) and never answered, it may still land (see broker/in-doubt-checks.ts).
   */
  private async attemptNoting<T>(
    node: Node, idx: number, req: FunnelRequest, attemptNo: number, budget: Budget | undefined, parse?: (res: FunnelResponse) => T,
  ): Promise<Attempt<T | FunnelResponse>> {
    if (req.method === 'GET' || !budget) return this.attempt(node, idx, req, attemptNo, budget, parse);
    try {
      const result = await this.attempt(node, idx, req, attemptNo, budget, parse);
      if (!result.ok && !neverSent(result.error.code)) budget.noteWriteInDoubt();
      return result;
    } catch (err) {
      const answered = err instanceof ManagementError || err instanceof ManagementProtocolError;
      const refused = err instanceof ManagementTransportError && neverSent(err.code);
      if (!answered && !refused) budget.noteWriteInDoubt();
      throw err;
    }
  }

  /**
   * One HTTP exchange with one node. Returns a transport failure (to fail over) or a value;
   * throws ManagementError / ManagementProtocolError / abort errors, which end the call.
   */
  private async attempt<T>(
    node: Node,
    idx: number,
    req: FunnelRequest,
    attemptNo: number,
    budget: Budget | undefined,
    parse?: (res: FunnelResponse) => T,
  ): Promise<Attempt<T | FunnelResponse>> {
    this.attempts++;
    let ms = this.o.attemptTimeoutMs;
    let budgetBound = false;
    if (budget) {
      const left = budget.remaining();
      if (left < ms) {
        ms = Math.max(1, left);
        budgetBound = true;
      }
    }
    // No listener on the budget: the attempt's own timer already ends at the budget when that comes first.
    const deadline = new AttemptDeadline(ms, budgetBound, undefined, req.signal);
    try {
      return await this.exchange(node, idx, req, attemptNo, deadline, parse);
    } finally {
      deadline.done();
    }
  }

  private async exchange<T>(
    node: Node,
    idx: number,
    req: FunnelRequest,
    attemptNo: number,
    deadline: AttemptDeadline,
    parse?: (res: FunnelResponse) => T,
  ): Promise<Attempt<T | FunnelResponse>> {
    const t0 = performance.now();
    const base = req.body === undefined ? node.readHeaders : node.writeHeaders;
    let res: Dispatcher.ResponseData;
    try {
      res = await node.pool.request({
        path: node.target.pathPrefix + req.path,
        method: req.method,
        headers: req.headers ? { ...base, ...req.headers } : base,
        body: req.body,
        signal: deadline.signal,
      });
    } catch (err) {
      return this.transportFailure(node, idx, req, err, t0, attemptNo, deadline);
    }

    const status = res.statusCode;
    const body = res.body;
    let failedInTransport = false;
    let outcome: AttemptOutcome = 'ok';
    this.lastExchange[idx] = performance.now();
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
        this.health.succeeded(idx);
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
        outcome = 'unavailable_status';
        await dumpBody(body);
        const error = new ManagementTransportError(`HTTP_${status}`, 'node answered ' + status, this.where(node, req), { status });
        this.health.failed(idx, error.code);
        return { ok: false, error };
      }
      // The node answered: it is up, even if what it says is an error.
      outcome = 'error_status';
      this.health.succeeded(idx);

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
      return this.transportFailure(node, idx, req, err, t0, attemptNo, deadline);
    } finally {
      // Whatever happened above, the body does not outlive this exchange. A destroyed,
      // unfinished body makes undici close that socket instead of leaving it half-read.
      if (!body.destroyed) body.destroy();
      if (!failedInTransport) this.emit(node, req, status, undefined, t0, attemptNo, outcome);
    }
  }

  /** Classifies a transport failure: returned for failover, or thrown when final. */
  private transportFailure(
    node: Node,
    idx: number,
    req: FunnelRequest,
    err: unknown,
    t0: number,
    attemptNo: number,
    deadline: AttemptDeadline,
  ): Attempt<never> {
    const cause = deadline.abortedBy;
    const code = cause === 'timeout' ? 'ATTEMPT_TIMEOUT' : cause === 'deadline' ? 'DEADLINE_EXCEEDED' : errorCode(err);
    this.transportErrors.set(code, (this.transportErrors.get(code) ?? 0) + 1);
    const outcome: AttemptOutcome = cause === 'timeout' ? 'timeout' : cause === 'deadline' ? 'deadline' : cause === 'caller' ? 'aborted' : 'transport';
    this.emit(node, req, undefined, code, t0, attemptNo, outcome);
    if (cause === 'caller') throw req.signal?.reason ?? err;
    const where = this.where(node, req);
    if (cause === 'deadline') {
      // The budget ran out while this node worked on it: not the node's fault, and no retry.
      const detail = `${deadline.signal.reason instanceof Error ? deadline.signal.reason.message : 'deadline exceeded'}`;
      throw this.deadlineError(req, attemptNo, new ManagementTransportError(code, detail, where, { cause: err }));
    }
    if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') {
      throw new ManagementUnavailableError(`RabbitMQ management client is closed (${req.method} ${req.path})`, where, attemptNo, this.names, err);
    }
    const detail = err instanceof Error ? err.message : String(err);
    const error = new ManagementTransportError(code, detail, where, { cause: err });
    if (isFinalCode(code)) throw error;
    // The attempt's clock starts before undici hands it a socket: with the pool saturated, the
    // time may have gone to waiting for a free socket here, which says nothing of the node.
    if (!(cause === 'timeout' && this.poolSaturated(node))) this.health.failed(idx, code);
    return { ok: false, error };
  }

  private poolSaturated(node: Node): boolean {
    const s = node.pool.stats;
    return s.queued > 0 || s.running >= this.o.connectionsPerNode;
  }

  // --- node health ---

  /** Per-node state, for /ready and metrics. */
  nodeHealth(): NodeHealthView[] {
    return this.health.view();
  }

  /**
   * Probes every node now, then keeps the state of up nodes fresh: one that had no exchange
   * for probeIntervalMs is probed. (Failing nodes are probed with backoff in any case.)
   */
  startProbing(): void {
    if (this.closing || this.keepFresh) return;
    this.keepFresh = true;
    for (let i = 0; i < this.nodes.length; i++) this.scheduleProbe(i, 0);
  }

  private stateChanged(i: number, from: NodeState, to: NodeState, code: string | undefined): void {
    const node = this.names[i];
    if (to === 'up') {
      this.probeDelay[i] = this.o.probeMinDelayMs;
      if (from === 'unknown') return;
      if (this.logger?.info) this.logger.info({ node, from }, 'rabbitmq management: node is up again');
      else this.logger?.warn({ node, from }, 'rabbitmq management: node is up again');
    } else {
      this.logger?.warn({ node, from, to, code }, `rabbitmq management: node is ${to}`);
      this.scheduleProbe(i, this.probeDelay[i]!);
    }
  }

  /** Probes node i after `delay`, or sooner if a probe is already due sooner; one probe per node at a time. */
  private scheduleProbe(i: number, delay: number): void {
    if (this.closing) return;
    const due = performance.now() + delay;
    if (this.probeTimers[i]) {
      if (this.probeDue[i]! <= due) return;
      clearTimeout(this.probeTimers[i]); // e.g. a keep-fresh probe 15 s away, and the node just went down
    }
    this.probeDue[i] = due;
    // Outside any request's context: a probe must not inherit (or keep alive) a request budget.
    const timer = detached(() =>
      setTimeout(() => {
        this.probeTimers[i] = undefined;
        void this.probeTick(i);
      }, delay),
    );
    timer.unref();
    this.probeTimers[i] = timer;
  }

  private async probeTick(i: number): Promise<void> {
    if (this.closing || this.probing[i]) return; // the probe out reschedules when it ends
    const state = this.health.state(i);
    if (state === 'up') {
      if (!this.keepFresh) return;
      // Traffic already tells us: probe only a node that has been quiet for a whole interval.
      const quiet = performance.now() - this.lastExchange[i]!;
      if (quiet < this.o.probeIntervalMs) return this.scheduleProbe(i, this.o.probeIntervalMs - quiet);
    }
    this.probing[i] = true;
    let ok: boolean;
    try {
      ok = await this.probe(i);
    } finally {
      this.probing[i] = false;
    }
    if (this.closing) return;
    if (ok) {
      if (this.keepFresh) this.scheduleProbe(i, this.o.probeIntervalMs);
      return;
    }
    const delay = this.probeDelay[i]!;
    this.probeDelay[i] = Math.min(this.o.probeMaxDelayMs, Math.max(this.o.probeMinDelayMs, delay * 2));
    this.scheduleProbe(i, delay);
  }

  /** GET /api/whoami on one node (cheap, and checks our credentials), one attempt deadline. */
  private async probe(i: number): Promise<boolean> {
    const node = this.nodes[i]!;
    const req: FunnelRequest = { method: 'GET', path: '/api/whoami', template: '/api/whoami', ok: [200], read: 'dump' };
    const deadline = new AttemptDeadline(this.o.attemptTimeoutMs, false);
    this.probesInFlight.add(deadline);
    this.probes++;
    const t0 = performance.now();
    let status: number | undefined;
    let code: string | undefined;
    try {
      const res = await node.pool.request({ path: node.target.pathPrefix + req.path, method: 'GET', headers: node.readHeaders, signal: deadline.signal });
      try {
        await dumpBody(res.body);
      } finally {
        if (!res.body.destroyed) res.body.destroy();
      }
      status = res.statusCode;
    } catch (err) {
      code = deadline.abortedBy === 'timeout' ? 'ATTEMPT_TIMEOUT' : errorCode(err);
    } finally {
      deadline.done();
      this.probesInFlight.delete(deadline);
    }
    if (this.closing) return false;
    this.lastExchange[i] = performance.now();
    let outcome: AttemptOutcome;
    if (status !== undefined && !FAILOVER_STATUSES.has(status)) {
      // Any answer but 502-504 means the node's management API serves (a 401 is a config error, not a dead node).
      this.health.succeeded(i);
      outcome = status === 200 ? 'ok' : 'error_status';
    } else {
      this.health.failed(i, code ?? `HTTP_${status}`);
      outcome = status !== undefined ? 'unavailable_status' : code === 'ATTEMPT_TIMEOUT' ? 'timeout' : 'transport';
    }
    this.emit(node, req, status, code, t0, 0, outcome);
    return outcome === 'ok' || outcome === 'error_status';
  }

  private where(node: Node, req: FunnelRequest): { method: HttpMethod; path: string; node: string } {
    return { method: req.method, path: req.path, node: node.target.name };
  }

  private countStatus(status: number): void {
    this.errorsByStatus.set(status, (this.errorsByStatus.get(status) ?? 0) + 1);
  }

  private emit(
    node: Node,
    req: FunnelRequest,
    status: number | undefined,
    errorCode: string | undefined,
    t0: number,
    attempt: number,
    outcome: AttemptOutcome,
  ): void {
    const log = this.logger && (this.logger.isLevelEnabled ? this.logger.isLevelEnabled('debug') : true);
    if (!this.onCall && !log) return;
    const event: CallEvent = {
      method: req.method,
      pathTemplate: req.template,
      status,
      durationMs: performance.now() - t0,
      node: node.target.name,
      attempt,
      outcome,
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
          state: this.health.state(i),
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
        deadlineExceeded: this.deadlineExceeded,
        probes: this.probes,
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
    for (let i = 0; i < this.probeTimers.length; i++) {
      clearTimeout(this.probeTimers[i]);
      this.probeTimers[i] = undefined;
    }
    // A probe of a stalled node would hold pool.close() for a whole attempt deadline.
    for (const p of this.probesInFlight) p.cancel(new Error('management client closed'));
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
