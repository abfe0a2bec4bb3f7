// Prometheus metrics: process fds (prom-client's process_open_fds / process_max_fds), OSBAPI
// requests by operation, management calls, the management pool, sockets by state and peer (to
// the RabbitMQ nodes, and to every peer) and fds by kind, so an operator sees a leak long
// before EMFILE. Per node: its state (up/suspect/down), attempt durations by outcome,
// failovers and calls cut by the deadline.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallEvent, FunnelCounters, NodeHealthView, NodeStats } from '../rabbitmq/index.ts';

/** The management pool of one node, as the client reports it, named by node. */
export type PoolStat = Omit<NodeStats, 'origin' | 'preferred' | 'state'> & { node: string };

const NODE_STATES = ['unknown', 'up', 'suspect', 'down'] as const;

/** Sockets to any peer, named without its address (unauthenticated /metrics): rabbitmq:<i>, listener:<port>, port:<port>. */
export interface PeerSocketCount {
  peer: string;
  direction: string;
  state: string;
  count: number;
}

export interface SocketCount {
  /** The node's position in rabbitmq.management_urls. */
  node: string;
  state: string;
  count: number;
}

export class BrokerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'code'>;
  private readonly requestSeconds: Histogram<'operation'>;
  private readonly mgmtCalls: Counter<'method' | 'path' | 'code'>;
  private readonly mgmtSeconds: Histogram<'method' | 'path'>;
  private readonly internalErrors: Counter;
  private readonly drift: Gauge<'kind'>;
  private readonly reconcileRuns: Counter<'result'>;
  private readonly authFailures: Counter<'outcome'>;
  private readonly attemptSeconds: Histogram<'node' | 'outcome'>;

  constructor(sources: {
    pool: () => PoolStat[];
    sockets: () => SocketCount[];
    nodes: () => NodeHealthView[];
    counters: () => Pick<FunnelCounters, 'failovers' | 'deadlineExceeded' | 'probes'>;
    /** Every socket of the process, by peer, direction and state. */
    allSockets?: () => PeerSocketCount[];
    fdsByKind?: () => Array<{ kind: string; count: number }>;
  }) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'warren_osbapi_requests_total', help: 'OSBAPI requests answered, by operation and HTTP status',
      labelNames: ['operation', 'code'], registers,
    });
    this.requestSeconds = new Histogram({
      name: 'warren_osbapi_request_duration_seconds', help: 'OSBAPI request latency by operation',
      labelNames: ['operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers,
    });
    this.mgmtCalls = new Counter({
      name: 'warren_rabbitmq_management_calls_total', help: 'HTTP exchanges with the RabbitMQ management API (code "error" for transport failures)',
      labelNames: ['method', 'path', 'code'], registers,
    });
    this.mgmtSeconds = new Histogram({
      name: 'warren_rabbitmq_management_call_duration_seconds', help: 'Latency of management API exchanges',
      labelNames: ['method', 'path'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers,
    });
    this.authFailures = new Counter({
      name: 'warren_osbapi_auth_failures_total', help: 'Refused logins to the broker API: rejected (401) or throttled (429)',
      labelNames: ['outcome'], registers,
    });
    this.internalErrors = new Counter({ name: 'warren_internal_errors_total', help: 'Requests that failed with an unexpected error', registers });
    this.drift = new Gauge({
      name: 'warren_drift_objects', help: 'Differences between the store and RabbitMQ found by the last reconcile pass, by kind',
      labelNames: ['kind'], registers,
    });
    this.reconcileRuns = new Counter({ name: 'warren_reconcile_runs_total', help: 'Reconcile passes by result (clean, drift, error)', labelNames: ['result'], registers });
    this.attemptSeconds = new Histogram({
      name: 'warren_rabbitmq_attempt_duration_seconds',
      help: 'One attempt of a management call on one node, by outcome (ok, error_status, unavailable_status, timeout, deadline, aborted, transport)',
      labelNames: ['node', 'outcome'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    });
    // Read at scrape time: each fill sets every value anew, so a node or kind that went away drops out.
    const scraped = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, v: number) => void) => void) =>
      new Gauge({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          fill((labels, v) => this.set(labels, v));
        },
      });
    scraped('warren_rabbitmq_node_up', '1 when the management node answered its last call or probe, else 0', ['node'], (set) => {
      for (const n of sources.nodes()) set({ node: n.node }, n.state === 'up' ? 1 : 0);
    });
    scraped('warren_rabbitmq_node_state', '1 for the state each management node is in (unknown, up, suspect, down)', ['node', 'state'], (set) => {
      for (const n of sources.nodes()) for (const state of NODE_STATES) set({ node: n.node, state }, n.state === state ? 1 : 0);
    });
    // Counted by the management client; read at scrape time.
    const fromCounters = (name: string, help: string, key: 'failovers' | 'deadlineExceeded' | 'probes') =>
      new Counter({
        name, help, registers,
        collect() {
          this.reset();
          this.inc(sources.counters()[key]);
        },
      });
    fromCounters('warren_rabbitmq_failovers_total', 'Management calls that moved on to another node or retry round after a failed attempt', 'failovers');
    fromCounters('warren_rabbitmq_deadline_exceeded_total', "Management calls ended because the request's time budget ran out", 'deadlineExceeded');
    fromCounters('warren_rabbitmq_probes_total', 'Health probes of management nodes (GET /api/whoami)', 'probes');

    scraped('warren_rabbitmq_pool_connections', 'Management API connection pool per node (undici pool stats)', ['node', 'kind'], (set) => {
      for (const s of sources.pool()) {
        for (const kind of ['connected', 'free', 'pending', 'queued', 'running', 'size'] as const) set({ node: s.node, kind }, s[kind]);
      }
    });
    scraped(
      'warren_rabbitmq_sockets', "This process's TCP sockets to the RabbitMQ management nodes (by position in management_urls) and state",
      ['node', 'state'],
      (set) => {
        for (const s of sources.sockets()) set({ node: s.node, state: s.state }, s.count);
      },
    );
    scraped(
      'warren_sockets',
      "This process's TCP sockets to every peer, by peer (rabbitmq:<node index>, listener:<own port> for accepted, port:<remote port> for others), direction and state",
      ['peer', 'direction', 'state'],
      (set) => {
        for (const s of sources.allSockets?.() ?? []) set({ peer: s.peer, direction: s.direction, state: s.state }, s.count);
      },
    );
    scraped('warren_open_fds', "This process's open file descriptors by kind (socket, file, pipe, anon_inode, other)", ['kind'], (set) => {
      for (const k of sources.fdsByKind?.() ?? []) set({ kind: k.kind }, k.count);
    });
  }

  private readonly answerChildren = new Map<string, { count: { inc(): void }; seconds: { observe(v: number): void } }>();

  osbapiAnswered(operation: string, status: number, seconds: number): void {
    const key = `${operation} ${status}`;
    let child = this.answerChildren.get(key);
    if (!child) {
      child = { count: this.requests.labels({ operation, code: String(status) }), seconds: this.requestSeconds.labels({ operation }) };
      this.answerChildren.set(key, child);
    }
    child.count.inc();
    child.seconds.observe(seconds);
  }

  // Labelled children, looked up once per label set: these run on every management call.
  private readonly callChildren = new Map<string, { count: { inc(): void }; seconds: { observe(v: number): void } }>();
  private readonly attemptChildren = new Map<string, { observe(v: number): void }>();

  managementCall(e: CallEvent): void {
    const code = e.status === undefined ? 'error' : String(e.status);
    const key = `${e.method} ${e.pathTemplate} ${code}`;
    let child = this.callChildren.get(key);
    if (!child) {
      child = {
        count: this.mgmtCalls.labels({ method: e.method, path: e.pathTemplate, code }),
        seconds: this.mgmtSeconds.labels({ method: e.method, path: e.pathTemplate }),
      };
      this.callChildren.set(key, child);
    }
    child.count.inc();
    child.seconds.observe(e.durationMs / 1000);
    if (e.attempt === 0) return; // a health probe: counted by warren_rabbitmq_probes_total
    const akey = `${e.node} ${e.outcome}`;
    let attempt = this.attemptChildren.get(akey);
    if (!attempt) {
      attempt = this.attemptSeconds.labels({ node: e.node, outcome: e.outcome });
      this.attemptChildren.set(akey, attempt);
    }
    attempt.observe(e.durationMs / 1000);
  }

  /** Every kind is set (0 when absent), so a repaired kind drops back to 0. */
  driftFound(counts: ReadonlyMap<string, number>, kinds: readonly string[]): void {
    for (const kind of kinds) this.drift.set({ kind }, counts.get(kind) ?? 0);
    this.reconcileRuns.inc({ result: [...counts.values()].some((n) => n > 0) ? 'drift' : 'clean' });
  }

  reconcileFailed(): void {
    this.reconcileRuns.inc({ result: 'error' });
  }

  authFailure(outcome: 'rejected' | 'throttled'): void {
    this.authFailures.inc({ outcome });
  }

  internalError(): void {
    this.internalErrors.inc();
  }
}
