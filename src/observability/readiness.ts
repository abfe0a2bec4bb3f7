// Whether the broker can serve: RabbitMQ reachable, store open, file descriptors under 80 % of
// the soft limit, no socket to RabbitMQ stuck in CLOSE_WAIT. Results are cached briefly so a
// burst of probes does not become a burst of management calls.
// /ready needs no auth: a failing check says what failed (an HTTP status, an error code), never
// where (node URLs, host:port) or with what account. The full reason goes to the log when a
// check starts failing.
import type { Store } from '../store/store.ts';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export interface ReadinessSources {
  rabbit: () => Promise<unknown>;
  store: Store;
  /** Open fds and the soft limit of this process; null where /proc cannot tell. */
  fds: () => { open: number; soft: number } | null;
  /** Sockets to the RabbitMQ management nodes in CLOSE_WAIT. */
  closeWaitToRabbit: () => number;
  cacheMs?: number;
  /** Told once when a check starts failing, with the full reason, and when it recovers. */
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** What an unauthenticated prober may see of a failure. */
export function publicDetail(err: unknown): string {
  const e = err as { status?: unknown; code?: unknown; name?: unknown };
  if (typeof e?.status === 'number') return `answered HTTP ${e.status}`;
  if (typeof e?.code === 'string' && /^[A-Z0-9_]+$/.test(e.code)) return `failed (${e.code})`;
  if (e?.name === 'ManagementUnavailableError') return 'unreachable';
  return 'failed; see the broker log';
}

async function run(name: string, fn: () => Promise<CheckResult> | CheckResult): Promise<[string, CheckResult & { reason?: string }]> {
  try {
    return [name, await fn()];
  } catch (err) {
    return [name, { ok: false, detail: publicDetail(err), reason: (err as Error)?.message ?? String(err) }];
  }
}

export class Readiness {
  private cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  private readonly failing = new Set<string>();

  constructor(private readonly s: ReadinessSources) {}

  check(): Promise<ReadinessReport> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < (this.s.cacheMs ?? 2000)) return this.cached.report;
    const report = this.evaluate();
    this.cached = { at: now, report };
    return report;
  }

  private async evaluate(): Promise<ReadinessReport> {
    const results = await Promise.all([
      run('rabbitmq', async () => {
        await this.s.rabbit();
        return { ok: true };
      }),
      run('store', async () => {
        await this.s.store.ping();
        return { ok: true };
      }),
      run('file_descriptors', () => {
        const fds = this.s.fds();
        if (!fds) return { ok: true, detail: 'not measurable on this system' };
        const share = fds.open / fds.soft;
        return { ok: share < 0.8, detail: `${fds.open} of ${fds.soft} open (${Math.round(share * 100)} %)` };
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
    return { ready: results.every(([, r]) => r.ok), checks };
  }
}
