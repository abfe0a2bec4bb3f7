// Whether the broker can serve, answered within a second from what warren already knows, never
// from a live call that could hang: at least one RabbitMQ node up (per-node state from calls
// and background probes), no plan using a policy the cluster's version rejects or ignores,
// Whether the broker can serve, answered within a second from what warren already knows, never
// from a live call that could hang: at least one RabbitMQ node up (per-node state from calls
// and background probes), no plan using a policy the cluster's version rejects or ignores,
// the store answering (bounded), file descriptors under 80 % of the soft limit, no fd kind or
// peer growing fast enough to reach the limit within 10 minutes, no socket to RabbitMQ stuck in
// CLOSE_WAIT. Results are cached briefly so a burst of probes stays cheap.
// /ready needs no auth: a failing check says what failed (an HTTP status, an error code), never
// where (node URLs, host:port) or with what account; nodes are named by their position in
// management_urls. The full reason goes to the log when a check starts failing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeHealthView } from '../rabbitmq/node-health.ts';
import type { Store } from '../store/store.ts';
import type { FdPressure } from './own-sockets.ts';

/** Growth that would exhaust the fd limit sooner than this makes the broker unready. */
export const FD_GROWTH_HORIZON_S = 600;

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
  /** Each management node as warren sees it. */
  nodes: NodeHealthView[];
}

export interface ReadinessSources {
  /** Per-node state; must not call RabbitMQ. */
  nodes: () => NodeHealthView[];
  /** The cluster's version (once discovered) and the plan policy problems it causes. */
  plans: () => { version: string | undefined; problems: string[] };
  store: Store;
  /** Open fds and the soft limit of this process; null where /proc cannot tell. */
  fds: () => { open: number; soft: number } | null;
  /** Sockets to the RabbitMQ management nodes in CLOSE_WAIT. */
  closeWaitToRabbit: () => number;
  /** Open fds by kind, for the detail of the fd check. */
  fdsByKind?: () => Array<{ kind: string; count: number }>;
  /** Steady fd or socket growth seen over the last looks (any fd kind, any peer). */
  fdPressure?: () => FdPressure[];
  cacheMs?: number;
  /** Told once when a check starts failing, with the full reason, and when it recovers. */
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** The store's ping counts as failed past this. Default 500 ms. */
  storeTimeoutMs?: number;
  /** Right after start no node has answered yet: wait this long for a first probe. Default 500 ms. */
  firstContactMs?: number;
}

/** What an unauthenticated prober may see of a failure. */
export function publicDetail(err: unknown): string {
  const e = err as { status?: unknown; code?: unknown; name?: unknown };
  if (typeof e?.status === 'number') return `answered HTTP ${e.status}`;
  if (typeof e?.code === 'string' && /^[A-Z0-9_]+$/.test(e.code)) return `failed (${e.code})`;
  if (e?.name === 'ManagementUnavailableError') return 'unreachable';
  const message = (err as Error)?.message ?? '';
  if (/^the store did not answer within \d+ ms$/.test(message)) return message;
  return 'failed; see the broker log';
}

async function run(
  name: string,
  fn: () => Promise<CheckResult & { reason?: string }> | (CheckResult & { reason?: string }),
): Promise<[string, CheckResult & { reason?: string }]> {
  try {
    return [name, await fn()];
  } catch (err) {
    return [name, { ok: false, detail: publicDetail(err), reason: (err as Error)?.message ?? String(err) }];
  }
}

/** p, or a failure after ms; the timer never outlives the answer. */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const ac = new AbortController();
  try {
    return await Promise.race([
      p,
      sleep(ms, undefined, { signal: ac.signal }).then(() => {
        throw new Error(`${what} did not answer within ${ms} ms`);
      }),
    ]);
  } finally {
    ac.abort();
  }
}

export function rabbitCheck(nodes: NodeHealthView[]): CheckResult {
  const up = nodes.filter((n) => n.state === 'up');
  const others = nodes
    .filter((n) => n.state !== 'up')
    .map((n) => `node ${n.node} ${n.state}${n.last_error ? ` (${n.last_error})` : ''}`);
  const detail = `${up.length} of ${nodes.length} management node(s) up${others.length ? `; ${others.join(', ')}` : ''}`;
  if (up.length > 0) return { ok: true, detail };
  const heard = nodes.some((n) => n.state !== 'unknown');
  return { ok: false, detail: heard ? `no RabbitMQ management node is up: ${detail}` : 'no RabbitMQ management node has answered yet' };
}

export class Readiness {
  private cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  private readonly failing = new Set<string>();

  constructor(private readonly s: ReadinessSources) {}

  check(): Promise<ReadinessReport> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < (this.s.cacheMs ?? 1000)) return this.cached.report;
    const report = this.evaluate();
    this.cached = { at: now, report };
    return report;
  }

  /** Just after start the probes are in flight: give them a moment rather than say "unknown". */
  private async nodesHeardFrom(): Promise<NodeHealthView[]> {
    const until = Date.now() + (this.s.firstContactMs ?? 500);
    let nodes = this.s.nodes();
    while (nodes.every((n) => n.state === 'unknown') && Date.now() < until) {
      await sleep(25);
      nodes = this.s.nodes();
    }
    return nodes;
  }

  private async evaluate(): Promise<ReadinessReport> {
    // Every wait below is bounded and they run side by side: the answer comes within ~500 ms.
    const heard = this.nodesHeardFrom();
    const results = await Promise.all([
      run('rabbitmq', async () => rabbitCheck(await heard)),
      run('plan_policies', () => {
        const { version, problems } = this.s.plans();
        if (version === undefined) return { ok: true, detail: 'the cluster version is not known yet' };
        if (problems.length === 0) return { ok: true, detail: `RabbitMQ ${version} accepts every plan's policies` };
        return { ok: false, detail: problems.join('; ') };
      }),
      run('store', async () => {
        await bounded(this.s.store.ping(), this.s.storeTimeoutMs ?? 500, 'the store');
        return { ok: true };
      }),
      run('file_descriptors', () => {
        const fds = this.s.fds();
        if (!fds) return { ok: true, detail: 'not measurable on this system' };
        const share = fds.open / fds.soft;
        const kinds = (this.s.fdsByKind?.() ?? []).filter((k) => k.count > 0).map((k) => `${k.kind} ${k.count}`);
        const byKind = kinds.length > 0 ? `: ${kinds.join(', ')}` : '';
        return { ok: share < 0.8, detail: `${fds.open} of ${fds.soft} open (${Math.round(share * 100)} %)${byKind}` };
      }),
      run('fd_growth', () => {
        const pressure = this.s.fdPressure?.() ?? [];
        const urgent = pressure.filter((p) => p.secondsToLimit !== null && p.secondsToLimit < FD_GROWTH_HORIZON_S);
        if (pressure.length === 0) return { ok: true, detail: 'no steady growth' };
        return { ok: urgent.length === 0, detail: pressure.map((p) => p.text).join('; '), reason: pressure.map((p) => p.reason).join('; ') };
      }),
      run('close_wait_to_rabbitmq', () => {
        const n = this.s.closeWaitToRabbit();
        return { ok: n === 0, detail: `${n} socket(s) in CLOSE_WAIT` };
      }),
    ]);
    for (const [name, r] of results) {
      if (!r.ok && !this.failing.has(name)) {
        this.failing.add(name);
        this.s.log?.warn({ check: name, reason: r.reason ?? r.detail }, 'readiness check failing');
      } else if (r.ok && this.failing.delete(name)) {
        this.s.log?.info({ check: name }, 'readiness check passing again');
      }
      delete r.reason;
    }
    const checks = Object.fromEntries(results);
    return { ready: results.every(([, r]) => r.ok), checks, nodes: await heard };
  }
}
