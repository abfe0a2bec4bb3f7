// The shape of a run's results (what --json writes and --from reads back), and the goals of the
// issue evaluated against them.
import type { LatencySummary } from './stats.ts';

export const RESULT_FORMAT = 'warren-bench/1';

export type ArmName = 'warren' | 'raw' | 'raw+confirm' | 'null-broker' | 'warren-info' | 'baseline';

export interface RoundResult {
  arm: ArmName;
  round: number;
  cycles: number;
  errors: number;
  elapsedS: number;
  cyclesPerS: number;
}

export interface ArmResult {
  cycles: number;
  errors: number;
  elapsedS: number;
  cyclesPerS: number;
  /** Latency per operation of the cycle, milliseconds. */
  latency: Record<string, LatencySummary>;
  /** The broker process between driver and RabbitMQ (warren or the null broker): CPU seconds over the measured rounds, RSS at the end. */
  brokerCpuS?: number;
  brokerCpuMsPerCycle?: number;
  /** The kernel's share (stime) of the broker's CPU, 0..1. */
  brokerSysShare?: number;
  brokerRssMb?: number;
  /** RabbitMQ's Erlang VM over the measured rounds (when /proc shows it). */
  rabbitCpuS?: number;
  rabbitCpuMsPerCycle?: number;
  /** This driver process over the measured rounds. */
  driverCpuS: number;
  driverCpuMsPerCycle: number;
  /** Management calls warren made over the measured rounds, by "METHOD template" (warren arms only). */
  managementCalls?: Record<string, number>;
  managementCallsPerCycle?: number;
  lastError?: string;
}

export interface ConcurrencyResult {
  concurrency: number;
  arms: Partial<Record<ArmName, ArmResult>>;
  rounds: RoundResult[];
  /** warren cycles/s divided by raw cycles/s over all rounds (other arms: see arms[x].cyclesPerS). */
  ratio: number;
  /** The same ratio per round pair (warren round i / raw round i): the spread shows the noise. */
  roundRatios: number[];
  /** Median of roundRatios: robust against a burst of outside load during one round. */
  medianRoundRatio: number;
  /** warren-info cycles/s divided by warren cycles/s (logging at info vs warn). */
  infoRatio?: number;
}

export interface ScenarioResult {
  id: 'bind-unbind' | 'provision-deprovision';
  title: string;
  ops: [string, string];
  /** What each arm does per cycle, in words. */
  describes: Partial<Record<ArmName, string>>;
  byConcurrency: ConcurrencyResult[];
}

export interface EndpointResult {
  endpoint: string;
  path: string;
  concurrency: number;
  requests: number;
  errors: number;
  elapsedS: number;
  requestsPerS: number;
  latency: LatencySummary;
  warrenCpuS: number;
  warrenCpuMsPerRequest: number;
}

export interface CallsPerOp {
  op: string;
  samples: number;
  callsPerOp: number;
  /** "METHOD template" -> calls per operation. */
  breakdown: Record<string, number>;
  rawCallsPerOp: number;
}

export interface MemorySample {
  ops: number;
  rssMb: number;
  atS: number;
  /** From warren's /metrics (prom-client default metrics), scraped right after the RSS reading. */
  heapUsedMb?: number;
  heapTotalMb?: number;
  externalMb?: number;
}

export interface MemoryResult {
  /** Which process: the measuring warren of the run, or the fresh one of --soak. */
  source: 'run' | 'soak';
  ops: number;
  concurrency?: number;
  durationS?: number;
  opsPerS?: number;
  rssAfter1kMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  growthMb: number;
  samples: MemorySample[];
}

export interface ProfileFunction {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
}

export interface ProfileSummary {
  file: string;
  durationMs: number;
  idleMs: number;
  activeMs: number;
  gcMs: number;
  ops?: number;
  activeUsPerOp?: number;
  byCategory: Array<{ category: string; selfMs: number; pctOfActive: number }>;
  /** Self time charged to the nearest warren or package frame on the stack. */
  byOwner: Array<{ category: string; selfMs: number; pctOfActive: number }>;
  top: ProfileFunction[];
  topWarren: ProfileFunction[];
}

export interface BenchResult {
  format: typeof RESULT_FORMAT;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  mode: string;
  settings: {
    concurrency: number[];
    rounds: Record<string, number>;
    roundSeconds: Record<string, number>;
    warmupSeconds: number;
    poolConnections: number;
    planId: string;
    logLevel: string;
    extraArms: string[];
    /** Where warren kept its state (absent in older results: sqlite). */
    store?: 'sqlite' | 'postgres';
    /** The checkout run as the 'baseline' arm, if any. */
    baseline?: string;
  };
  environment: Record<string, string | number>;
  scenarios: ScenarioResult[];
  osbapi: EndpointResult[];
  calibration: CallsPerOp[];
  memory: MemoryResult[];
  logging?: { concurrency: number; infoRatio: number; warnCpuMsPerCycle?: number; infoCpuMsPerCycle?: number }[];
  profile?: ProfileSummary & { concurrency: number; seconds: number };
  cleanup?: { users: number; vhosts: number; leftovers: number; failures: string[] };
  aborted?: string;
  /** Set by --from with several files. */
  mergedFrom?: string[];
}

/** Adds what `b` has and `a` lacks (memory results are appended). */
export function mergeResults(a: BenchResult, b: BenchResult): BenchResult {
  return {
    ...a,
    scenarios: a.scenarios.length ? a.scenarios : b.scenarios,
    osbapi: a.osbapi.length ? a.osbapi : b.osbapi,
    calibration: a.calibration.length ? a.calibration : b.calibration,
    memory: [...a.memory, ...b.memory.filter((m) => !a.memory.some((x) => x.source === m.source))],
    ...(a.logging || b.logging ? { logging: a.logging ?? b.logging } : {}),
    ...(a.profile || b.profile ? { profile: a.profile ?? b.profile } : {}),
  };
}

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  /** true met, false missed, null not measured in this run. */
  met: boolean | null;
  margin: string;
}

const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

export function evaluateGoals(r: BenchResult): Goal[] {
  const goals: Goal[] = [];
  const scenario = (id: ScenarioResult['id']) => r.scenarios.find((s) => s.id === id);

  for (const [id, target] of [['bind-unbind', 0.9], ['provision-deprovision', 0.95]] as const) {
    const s = scenario(id);
    if (!s) continue;
    for (const c of r.settings.concurrency) {
      const row = s.byConcurrency.find((x) => x.concurrency === c);
      if (!row) continue;
      const ratio = row.ratio;
      const met = ratio === undefined || !Number.isFinite(ratio) ? null : ratio >= target;
      goals.push({
        goal: `${id} throughput, concurrency ${c}`,
        target: `warren/raw >= ${target}`,
        measured: `${f(ratio)} (${f(row.arms.warren?.cyclesPerS, 1)} vs ${f(row.arms.raw?.cyclesPerS, 1)} cycles/s; per round ${f(Math.min(...row.roundRatios))}-${f(Math.max(...row.roundRatios))}, median ${f(row.medianRoundRatio)})`,
        met,
        margin: met === null ? '' : met ? `+${f((ratio - target) * 100, 0)} points` : `missed by ${f((target - ratio) * 100, 0)} points`,
      });
    }
  }

  for (const id of ['bind-unbind', 'provision-deprovision'] as const) {
    const s = scenario(id);
    const row = s?.byConcurrency.find((x) => x.concurrency === 1);
    if (!s || !row) continue;
    for (const op of s.ops) {
      const w = row.arms.warren?.latency[op]?.p50;
      const raw = row.arms.raw?.latency[op]?.p50;
      if (w === undefined || raw === undefined) continue;
      const added = w - raw;
      goals.push({
        goal: `added latency of ${op}, concurrency 1`,
        target: '< 0.5 ms median',
        measured: `${f(added)} ms (p50 ${f(w)} vs ${f(raw)} ms)`,
        met: added < 0.5,
        margin: added < 0.5 ? `${f(0.5 - added)} ms to spare` : `missed by ${f(added - 0.5)} ms`,
      });
    }
  }

  const soak = r.memory.find((m) => m.source === 'soak');
  const mem = soak ?? r.memory.find((m) => m.source === 'run');
  if (mem) {
    const full = mem.ops >= 100_000;
    goals.push({
      goal: `memory flat (${mem.source === 'soak' ? '--soak, fresh warren' : 'the run\'s warren'})`,
      target: 'RSS after 100,000 ops within 20 MB of RSS after 1,000',
      measured: `${f(mem.rssAfter1kMb, 1)} MB -> ${f(mem.rssEndMb, 1)} MB after ${mem.ops} ops (${mem.growthMb >= 0 ? '+' : ''}${f(mem.growthMb, 1)} MB, max ${f(mem.rssMaxMb, 1)})`,
      met: full ? mem.growthMb <= 20 : null,
      margin: full
        ? mem.growthMb <= 20 ? `${f(20 - mem.growthMb, 1)} MB to spare` : `missed by ${f(mem.growthMb - 20, 1)} MB`
        : `only ${mem.ops} ops: ${mem.source === 'soak' ? 'raise --soak-ops' : 'run with --soak'} for the 100,000-op figure`,
    });
  }

  const bind = scenario('bind-unbind');
  if (bind && r.osbapi.length > 0) {
    for (const c of r.settings.concurrency) {
      const opsPerS = (bind.byConcurrency.find((x) => x.concurrency === c)?.arms.warren?.cyclesPerS ?? NaN) * 2;
      const eps = r.osbapi.filter((e) => e.concurrency === c);
      if (eps.length === 0 || !Number.isFinite(opsPerS)) continue;
      const slowest = eps.reduce((a, b) => (a.requestsPerS < b.requestsPerS ? a : b));
      goals.push({
        goal: `OSBAPI layer not the bottleneck, concurrency ${c}`,
        target: 'GET req/s well above bind+unbind ops/s',
        measured: eps.map((e) => `${e.endpoint} ${f(e.requestsPerS, 0)}/s`).join(', ') + ` vs ${f(opsPerS, 0)} ops/s`,
        met: slowest.requestsPerS >= 2 * opsPerS,
        margin: `slowest is ${f(slowest.requestsPerS / opsPerS, 1)}x the op rate`,
      });
    }
  }
  return goals;
}
