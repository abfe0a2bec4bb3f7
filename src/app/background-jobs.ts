// Periodic jobs that must run once per deployment, not once per replica: whichever replica holds
// the 'background' lease in the store runs them; when it dies, another takes the lease over
// within a lease length. Each tick renews the lease (or tries to take it) and runs the jobs that
// are due; a job never overlaps itself, and a tick without the lease runs nothing.
import type { Logger } from 'pino';
import { withBudget } from '../deadline/budget.ts';
import type { Store } from '../store/store.ts';

export const BACKGROUND_LEASE = 'background';

interface Job {
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
  nextAt: number;
  running: boolean;
}

export interface LeaseStatus {
  held: boolean;
  epoch: number | null;
}

export class BackgroundJobs {
  readonly #jobs: Job[] = [];
  #timer: NodeJS.Timeout | undefined;
  #held = false;
  #epoch: number | null = null;
  #ticking = false;

  constructor(
    private readonly store: Store,
    private readonly holder: string,
    private readonly leaseMs: number,
    private readonly log: Logger,
    private readonly tickMs = 500,
  ) {}

  add(name: string, everyMs: number, run: () => Promise<unknown>): this {
    this.#jobs.push({ name, everyMs, run, nextAt: 0, running: false });
    return this;
  }

  status(): LeaseStatus {
    return { held: this.#held, epoch: this.#epoch };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.tickMs);
    this.#timer.unref();
    void this.tick();
  }

  /** Stops ticking and gives the lease up, so another replica takes over at once. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#held) {
      this.#held = false;
      await this.store.releaseLease(BACKGROUND_LEASE, this.holder).catch(() => undefined);
    }
  }

  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const epoch = await withBudget(Math.max(1000, this.leaseMs / 3), () => this.store.acquireLease(BACKGROUND_LEASE, this.holder, this.leaseMs));
      const held = epoch !== null;
      if (held !== this.#held) this.log.info({ lease: BACKGROUND_LEASE, epoch }, held ? 'this replica now runs the background jobs' : 'another replica runs the background jobs');
      this.#held = held;
      this.#epoch = epoch;
    } catch (err) {
      // Unknown: act as if not held; the lease runs out elsewhere if it was ours.
      if (this.#held) this.log.warn({ err: (err as Error)?.message }, 'could not renew the background lease');
      this.#held = false;
    } finally {
      this.#ticking = false;
    }
    if (!this.#held || !this.#timer) return;
    const t = Date.now();
    for (const job of this.#jobs) {
      if (job.running || t < job.nextAt) continue;
      job.running = true;
      job.nextAt = t + job.everyMs;
      job.run().then(
        () => undefined,
        (err: unknown) => this.log.warn({ job: job.name, err: (err as Error)?.message }, 'background job failed'),
      ).finally(() => {
        job.running = false;
      });
    }
  }
}
