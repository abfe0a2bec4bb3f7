// The state one soak run shares between its workers, its sampler and its phases: the phase it
// is in, why it stopped (if it did), the ids it made and still holds in warren, and the result
// it fills in. Every other soak module works on one SoakRun.
import { randomBytes } from 'node:crypto';
import type { Snapshot } from '../../packages/leakguard/src/index.ts';
import type { OsbClient } from '../../testkit/osb-client.ts';
import type { WarrenProcess } from '../../testkit/warren-process.ts';
import { DEFAULT_OPTIONS, type SoakOptions } from './soak-options.ts';
import { emptyResult, type Phase, type SoakResult } from './soak-result.ts';
import { Latencies, RabbitAdmin, type LiveConnection } from './soak-support.ts';

/** Thrown in a worker once the run stopped early; the worker ends quietly. */
export class Stop extends Error {}

export class SoakRun {
  readonly o: SoakOptions;
  readonly t0 = Date.now();
  readonly prefix = `soak-${randomBytes(3).toString('hex')}-`;
  readonly mgmtUrl: URL;
  readonly mgmtPort: number;
  readonly admin: RabbitAdmin;
  readonly result: SoakResult;
  readonly deadlineAt: number;

  phase: Phase = 'setup';
  private phaseStart = 0;
  stopReason: string | null = null;

  warren: WarrenProcess | undefined;
  warrenGone = false;
  /** Set before warren is stopped on purpose, so its exit is not reported as a failure. */
  stopping = false;
  client: OsbClient | undefined;
  configDir: string | undefined;

  /** binding id -> instance id, until unbound or its instance deprovisioned. */
  readonly liveBindings = new Map<string, string>();
  /** Until deprovisioned (200 or 410). */
  readonly liveInstances = new Set<string>();
  readonly openConnections = new Set<LiveConnection>();
  /** AMQP connections that outlived what should have killed them, by that killer. */
  readonly survivedBy: Record<string, number> = {};
  readonly latencies = new Map<string, Latencies>();
  liveAmqp = 0;
  firstConnectError: string | undefined;
  requestCount = 0;
  failureCounter = 0;
  private idCounter = 0;

  /** The snapshot settling compares with: after warm-up, or the idle one if warm-up never ended. */
  baseline: Snapshot | undefined;
  baselineKind = 'post-warm-up';

  readonly foreignVhost: string;
  readonly doomedInstance: string;
  readonly baseInstances: string[];

  constructor(partial: Partial<SoakOptions>) {
    const o: SoakOptions = { ...DEFAULT_OPTIONS, ...partial };
    if (!(o.cycles >= 0 && o.concurrency >= 1 && o.instances >= 1 && o.fdLimit >= 32)) throw new RangeError('soak: invalid options');
    this.o = o;
    this.mgmtUrl = new URL(o.managementUrl);
    this.mgmtPort = Number(this.mgmtUrl.port || (this.mgmtUrl.protocol === 'https:' ? 443 : 80));
    this.admin = new RabbitAdmin(o.managementUrl, o.adminUser, o.adminPassword);
    this.result = emptyResult(o, this.prefix, this.t0);
    this.deadlineAt = this.t0 + o.deadlineMs;
    this.foreignVhost = `${this.prefix}foreign`;
    this.doomedInstance = `${this.prefix}doomed`;
    this.baseInstances = Array.from({ length: o.instances }, (_, i) => `${this.prefix}i${i}`);
  }

  /** ms since the run started. */
  since(): number {
    return Date.now() - this.t0;
  }

  fail(msg: string): void {
    this.result.failures.push(msg);
  }

  /** Ends the run early (the first reason wins); workers see it before their next request. */
  stop(why: string): void {
    if (this.stopReason === null) {
      this.stopReason = why;
      this.result.stoppedEarly = why;
    }
  }

  enterPhase(next: Phase): void {
    this.closePhase();
    this.phase = next;
    this.phaseStart = this.since();
  }

  /** Records the current phase as ended now (the last one, when the run ends). */
  closePhase(): void {
    this.result.phases.push({ name: this.phase, startMs: this.phaseStart, endMs: this.since() });
  }

  nextId(tag: string): string {
    return `${this.prefix}${tag}${(this.idCounter++).toString(36)}`;
  }

  latency(op: string): Latencies {
    let l = this.latencies.get(op);
    if (!l) this.latencies.set(op, (l = new Latencies()));
    return l;
  }

  /** An answer the soak did not expect: counted, a few kept, and too many stop the run. */
  unexpected(what: string): void {
    const u = this.result.unexpected;
    u.count++;
    if (u.examples.length < 20) u.examples.push(what);
    if (u.count >= this.o.maxUnexpected) this.stop(`${u.count} unexpected answers`);
  }

  /** Drops the OSBAPI client and aborts its requests in flight. */
  async dropClient(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.agent.destroy().catch(() => undefined);
  }
}
