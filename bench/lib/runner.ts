// Rounds of closed-loop load: `concurrency` workers, each running cycles back to back until the
// round's time is up. Arms of a comparison take turns round by round (their order rotates each
// round), so drift of the shared machine hits every arm alike.
import { performance } from 'node:perf_hooks';
import { cpuSeconds, postgresCpuBetween, postgresCpuByPid, selfCpuSeconds } from './proc.ts';
import type { ArmName, RoundResult } from './results.ts';
import { Samples } from './stats.ts';
import type { WarrenTarget } from './warren-target.ts';

export class Abort {
  reason: string | undefined;
  get aborted(): boolean {
    return this.reason !== undefined;
  }
  check(): void {
    if (this.reason !== undefined) throw new AbortedError(this.reason);
  }
}

export class AbortedError extends Error {}

/** Latency samples per operation name. */
export class Recorder {
  readonly lat = new Map<string, Samples>();
  errors = 0;
  cycles = 0;
  elapsedS = 0;
  brokerCpuS = 0;
  /** The kernel's part of brokerCpuS (stime): socket and file I/O. */
  brokerSysS = 0;
  rabbitCpuS = 0;
  /** PostgreSQL's server processes (only with a PostgreSQL store). */
  pgCpuS = 0;
  driverCpuS = 0;
  lastError: string | undefined;

  constructor(ops: readonly string[]) {
    for (const op of ops) this.lat.set(op, new Samples());
  }

  /** Runs one operation, records its latency when it succeeds. */
  async time(op: string, fn: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    await fn();
    this.lat.get(op)!.push(performance.now() - t0);
  }
}

/** Unique, run-prefixed names (every name the run creates starts with the prefix). */
export class Names {
  private n = 0;
  constructor(readonly prefix: string) {}
  next(kind: string): string {
    return `${this.prefix}${kind}-${++this.n}`;
  }
}

export interface Tracked {
  cpuTimes(): { user: number; sys: number };
  rss(): number;
}

export interface Arm {
  name: ArmName;
  /** The warren process behind this arm, for /metrics (and CPU, RSS). */
  warren?: WarrenTarget;
  /** The broker process behind this arm, for CPU and RSS (default: warren). */
  proc?: Tracked;
  cycle(rec: Recorder): Promise<void>;
}

export interface RoundContext {
  abort: Abort;
  beamPid: number | undefined;
  /** Whether to measure the PostgreSQL server's CPU (the arms' store is PostgreSQL). */
  pgCpu?: boolean;
  /** Give up on a round after this many failed cycles. */
  maxErrors: number;
}

/** One round of one arm; adds to the recorder and returns the round's figures. */
export async function runRound(arm: Arm, concurrency: number, seconds: number, rec: Recorder, ctx: RoundContext, round: number): Promise<RoundResult> {
  ctx.abort.check();
  const proc = arm.proc ?? arm.warren;
  const cpuW0 = proc ? proc.cpuTimes() : { user: 0, sys: 0 };
  const cpuR0 = ctx.beamPid ? cpuSeconds(ctx.beamPid) : 0;
  const cpuD0 = selfCpuSeconds();
  const cpuP0 = ctx.pgCpu ? postgresCpuByPid() : undefined;
  let cycles = 0;
  let errors = 0;
  let fatal: unknown;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (!ctx.abort.aborted && fatal === undefined && performance.now() < deadline) {
      try {
        await arm.cycle(rec);
        cycles++;
      } catch (err) {
        errors++;
        rec.lastError = (err as Error).message;
        if (errors > ctx.maxErrors) fatal ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  if (proc) {
    const cpuW1 = proc.cpuTimes();
    rec.brokerCpuS += cpuW1.user + cpuW1.sys - cpuW0.user - cpuW0.sys;
    rec.brokerSysS += cpuW1.sys - cpuW0.sys;
  }
  if (ctx.beamPid) rec.rabbitCpuS += cpuSeconds(ctx.beamPid) - cpuR0;
  rec.driverCpuS += selfCpuSeconds() - cpuD0;
  if (cpuP0) rec.pgCpuS += postgresCpuBetween(cpuP0, postgresCpuByPid());
  rec.cycles += cycles;
  rec.errors += errors;
  rec.elapsedS += elapsedS;
  if (fatal !== undefined) throw new Error(`${arm.name}: more than ${ctx.maxErrors} failed cycles in one round; last: ${(fatal as Error).message}`);
  ctx.abort.check();
  return { arm: arm.name, round, cycles, errors, elapsedS, cyclesPerS: cycles / elapsedS };
}

/** Rotates the arms' order: round 0 A B C, round 1 B C A, ... */
export function rotate<T>(xs: readonly T[], k: number): T[] {
  const n = xs.length;
  return xs.map((_, i) => xs[(i + k) % n]!);
}

/** Closed-loop GETs (or any single request) for `seconds`: requests, errors, latency. */
export async function runRequests(
  concurrency: number,
  seconds: number,
  fn: () => Promise<void>,
  samples: Samples,
  abort: Abort,
): Promise<{ requests: number; errors: number; elapsedS: number; lastError?: string }> {
  let requests = 0;
  let errors = 0;
  let lastError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (!abort.aborted && performance.now() < deadline) {
      const s = performance.now();
      try {
        await fn();
        samples.push(performance.now() - s);
        requests++;
      } catch (err) {
        errors++;
        lastError = (err as Error).message;
        if (errors > 50) return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  abort.check();
  return { requests, errors, elapsedS: (performance.now() - t0) / 1000, ...(lastError ? { lastError } : {}) };
}
