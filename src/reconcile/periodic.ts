// The server's periodic drift scan (report-only unless `reconcile.fix`). runOnce() is what a
// background-job lease would call on the one replica that holds it; start() schedules it on an
// unref'd timer, so it never keeps the process alive. Passes never overlap.
import type { FindingKind, ReconcileDeps } from './findings.ts';
import { reconcile, type ReconcileReport } from './reconcile.ts';

export interface PeriodicReconcileOptions {
  intervalMs: number;
  fix: boolean;
  /** Findings of the last pass by kind (every kind present, 0 when none): the warren_drift_objects gauge. */
  onReport?: (counts: Map<FindingKind, number>, report: ReconcileReport) => void;
  /** A pass that could not finish (RabbitMQ or the store unreachable). */
  onError?: (err: Error) => void;
}

export class PeriodicReconcile {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReconcileReport> | undefined;

  constructor(private readonly deps: ReconcileDeps, private readonly opts: PeriodicReconcileOptions) {}

  start(): void {
    if (this.#timer || this.opts.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.runOnce().catch((err: Error) => {
        this.opts.onError?.(err);
        this.deps.log.warn({ err: err.message }, 'periodic reconcile failed; next pass at the next interval');
      });
    }, this.opts.intervalMs);
    this.#timer.unref();
  }

  /** Stops scheduling and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One pass now; a call while a pass runs shares it. */
  runOnce(): Promise<ReconcileReport> {
    this.#running ??= (async () => {
      try {
        const report = await reconcile(this.deps, { fix: this.opts.fix });
        const counts = new Map<FindingKind, number>();
        for (const f of report.findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
        this.opts.onReport?.(counts, report);
        this.deps.log.info({ reconcile: 'pass', findings: report.findings.length, remaining: report.remaining.length, fix: this.opts.fix }, 'reconcile pass done');
        return report;
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }
}
