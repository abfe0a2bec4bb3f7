// Whether the broker can serve: RabbitMQ reachable, store open, file descriptors under 80 % of
// the soft limit, no fd kind or peer growing fast enough to reach the limit within 10 minutes,
// no socket to RabbitMQ stuck in CLOSE_WAIT. Results are cached briefly so a burst of probes
// does not become a burst of management calls.
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
}

export interface ReadinessSources {
  rabbit: () => Promise<unknown>;
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
}

async function run(name: string, fn: () => Promise<CheckResult> | CheckResult): Promise<[string, CheckResult]> {
  try {
    return [name, await fn()];
  } catch (err) {
    return [name, { ok: false, detail: (err as Error).message }];
  }
}

export class Readiness {
  private cached: { at: number; report: Promise<ReadinessReport> } | undefined;

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
        const kinds = (this.s.fdsByKind?.() ?? []).filter((k) => k.count > 0).map((k) => `${k.kind} ${k.count}`);
        const byKind = kinds.length > 0 ? `: ${kinds.join(', ')}` : '';
        return { ok: share < 0.8, detail: `${fds.open} of ${fds.soft} open (${Math.round(share * 100)} %)${byKind}` };
      }),
      run('fd_growth', () => {
        const pressure = this.s.fdPressure?.() ?? [];
        const urgent = pressure.filter((p) => p.secondsToLimit !== null && p.secondsToLimit < FD_GROWTH_HORIZON_S);
        if (pressure.length === 0) return { ok: true, detail: 'no steady growth' };
        return { ok: urgent.length === 0, detail: pressure.map((p) => p.text).join('; ') };
      }),
      run('close_wait_to_rabbitmq', () => {
        const n = this.s.closeWaitToRabbit();
        return { ok: n === 0, detail: `${n} socket(s) in CLOSE_WAIT` };
      }),
    ]);
    const checks = Object.fromEntries(results);
    return { ready: results.every(([, r]) => r.ok), checks };
  }
}
