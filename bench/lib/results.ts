// The shape of a run's results (what --json writes and --from reads back), and the goals of the
// issue evaluated against them.
import type { ScaleOptions } from './scale-options.ts';
import { median, type LatencySummary } from './stats.ts';

export const RESULT_FORMAT = 'warren-bench/1';

/** 'null-broker': the minimal broker's old name and older calls (results before issue 14), read back as such. */
export type ArmName = 'warren' | 'raw' | 'minimal' | 'raw+confirm' | 'null-broker' | 'warren-info' | 'baseline';

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
  /** The broker process between driver and RabbitMQ (warren or the minimal broker): CPU seconds over the measured rounds, RSS at the end. */
  brokerCpuS?: number;
  brokerCpuMsPerCycle?: number;
  /** The kernel's share (stime) of the broker's CPU, 0..1. */
  brokerSysShare?: number;
  brokerRssMb?: number;
  /** RabbitMQ's Erlang VM over the measured rounds (when /proc shows it). */
  rabbitCpuS?: number;
  rabbitCpuMsPerCycle?: number;
  /** PostgreSQL's server processes over the measured rounds (PostgreSQL store only). */
  pgCpuS?: number;
  pgCpuMsPerCycle?: number;
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
  /** RSS of the fresh process before its first operation (absent in older results). */
  rssAtStartMb?: number;
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
    /** The settings of --scale, when it ran. */
    scale?: ScaleOptions;
  };
  environment: Record<string, string | number>;
  scenarios: ScenarioResult[];
  osbapi: EndpointResult[];
  calibration: CallsPerOp[];
  memory: MemoryResult[];
  logging?: { concurrency: number; infoRatio: number; warnCpuMsPerCycle?: number; infoCpuMsPerCycle?: number }[];
  profile?: ProfileSummary & { concurrency: number; seconds: number };
  /** RSS (MB) of each warren process a second after it started, by label ('warren', 'soak', 'warren@N' of --scale). */
  rssAtStart?: Record<string, number>;
  /** --scale: warren's own share against the store's size, and RabbitMQ's vhost creation against the vhost count. */
  scale?: ScaleResult;
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
    ...(a.scale || b.scale ? { scale: a.scale ?? b.scale } : {}),
    ...(a.rssAtStart || b.rssAtStart ? { rssAtStart: { ...b.rssAtStart, ...a.rssAtStart } } : {}),
  };
}

export interface ScaleArm {
  /** 'raw', or the seeded warren's label ('warren@N'). */
  arm: string;
  /** Instances and bindings in the warren's store when it started (absent for raw). */
  instances?: number;
  bindings?: number;
  /** How long seeding the store took. */
  seedS?: number;
  rssAtStartMb?: number;
  result: ArmResult;
  /** cycles/s per round, in round order. */
  rounds: number[];
}

export interface ScaleConcurrency {
  concurrency: number;
  arms: ScaleArm[];
}

export interface VhostLevel {
  /** The run's own vhosts present (the fillers), and all vhosts in RabbitMQ at that moment. */
  filler: number;
  totalVhosts: number;
  /** RabbitMQ's file descriptors in use and its limit at that level (each vhost holds some). */
  rabbitFd?: { used: number; total: number };
  /** PUT /api/vhosts/{probe} and DELETE of it, ms, over the probes at this level. */
  putVhost: LatencySummary;
  deleteVhost: LatencySummary;
  /** Mean PUT /api/vhosts time of the fillers created to reach this level from the last one. */
  fillPutMeanMs?: number;
  /** bind+unbind at concurrency 1 at this level: raw, and through the size-0 warren. */
  raw?: ArmResult;
  warren?: ArmResult;
}

export interface ScaleResult {
  bindingsPerInstance: number;
  byConcurrency: ScaleConcurrency[];
  vhosts: VhostLevel[];
  /** Seconds spent creating and deleting the filler vhosts. */
  vhostSeconds?: number;
  /** Why the vhost part stopped before its last level (RabbitMQ's file descriptors), if it did. */
  vhostLimit?: string;
}

/** warren's own share of one bind+unbind: its p50s minus raw's (ms), and its CPU per cycle. */
export function ownShare(w: ArmResult | undefined, raw: ArmResult | undefined): { latencyMs: number; cpuMs: number } {
  const p50 = (a: ArmResult | undefined) => (a?.latency.bind?.p50 ?? NaN) + (a?.latency.unbind?.p50 ?? NaN);
  return { latencyMs: p50(w) - p50(raw), cpuMs: w?.brokerCpuMsPerCycle ?? NaN };
}

/** The minimal broker's arm of a row: 'minimal', or in older results the 'null-broker'. */
export function minimalArmOf(row: ConcurrencyResult): { name: ArmName; arm: ArmResult } | undefined {
  if (row.arms.minimal) return { name: 'minimal', arm: row.arms.minimal };
  if (row.arms['null-broker']) return { name: 'null-broker', arm: row.arms['null-broker'] };
  return undefined;
}

/** warren / minimal: over all rounds, per round pair, and their median (computed from the rounds, so older results have it too). */
export function versusMinimal(row: ConcurrencyResult): { name: ArmName; ratio: number; roundRatios: number[]; median: number } | undefined {
  const m = minimalArmOf(row);
  if (!m || !row.arms.warren) return undefined;
  const perRound = (name: ArmName) => row.rounds.filter((x) => x.arm === name).map((x) => x.cyclesPerS);
  const w = perRound('warren');
  const mm = perRound(m.name);
  const roundRatios = w.slice(0, mm.length).map((x, i) => x / mm[i]!);
  return { name: m.name, ratio: row.arms.warren.cyclesPerS / m.arm.cyclesPerS, roundRatios, median: median(roundRatios) };
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

  // The headline (issue 14): warren against the minimal broker, judged on the median of the
  // per-round ratios of interleaved rounds (robust against a burst of outside load).
  const bind = scenario('bind-unbind');
  const minTarget = r.settings.store === 'postgres' ? 0.9 : 0.95;
  for (const c of r.settings.concurrency) {
    const row = bind?.byConcurrency.find((x) => x.concurrency === c);
    if (!row) continue;
    const vm = versusMinimal(row);
    const m = minimalArmOf(row);
    const ratio = vm?.median;
    const met = ratio === undefined || !Number.isFinite(ratio) ? null : ratio >= minTarget;
    goals.push({
      goal: `bind-unbind throughput vs the minimal broker, concurrency ${c} (${r.settings.store ?? 'sqlite'})`,
      target: `warren/minimal >= ${minTarget} (median of rounds)`,
      measured: vm
        ? `${f(vm.median)} (all rounds ${f(vm.ratio)}: ${f(row.arms.warren?.cyclesPerS, 1)} vs ${f(m?.arm.cyclesPerS, 1)} cycles/s; per round ${f(Math.min(...vm.roundRatios))}-${f(Math.max(...vm.roundRatios))}${vm.name === 'null-broker' ? '; older null broker' : ''}); warren/raw ${f(row.medianRoundRatio)}`
        : `no minimal arm in this run (warren/raw ${f(row.medianRoundRatio)})`,
      met,
      margin: met === null ? '' : met ? `+${f((ratio! - minTarget) * 100, 0)} points` : `missed by ${f((minTarget - ratio!) * 100, 0)} points`,
    });
    const wc = row.arms.warren?.brokerCpuMsPerCycle;
    const mc = m?.arm.brokerCpuMsPerCycle;
    if (wc !== undefined && mc !== undefined) {
      const x = wc / mc;
      goals.push({
        goal: `CPU per bind+unbind vs the minimal broker, concurrency ${c}`,
        target: 'warren CPU ms/cycle <= 1.3x minimal',
        measured: `${f(x)}x (${f(wc)} vs ${f(mc)} ms/cycle)`,
        met: x <= 1.3,
        margin: x <= 1.3 ? `${f((1.3 - x) * mc)} ms/cycle to spare` : `missed by ${f((x - 1.3) * mc)} ms/cycle`,
      });
    }
  }

  const prov = scenario('provision-deprovision');
  for (const c of r.settings.concurrency) {
    const row = prov?.byConcurrency.find((x) => x.concurrency === c);
    if (!row) continue;
    const target = 0.95;
    const ratio = row.ratio;
    const met = ratio === undefined || !Number.isFinite(ratio) ? null : ratio >= target;
    goals.push({
      goal: `provision-deprovision throughput, concurrency ${c}`,
      target: `warren/raw >= ${target}`,
      measured: `${f(ratio)} (${f(row.arms.warren?.cyclesPerS, 1)} vs ${f(row.arms.raw?.cyclesPerS, 1)} cycles/s; per round ${f(Math.min(...row.roundRatios))}-${f(Math.max(...row.roundRatios))}, median ${f(row.medianRoundRatio)})`,
      met,
      margin: met === null ? '' : met ? `+${f((ratio - target) * 100, 0)} points` : `missed by ${f((target - ratio) * 100, 0)} points`,
    });
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
      const m = minimalArmOf(row)?.arm.latency[op]?.p50;
      goals.push({
        goal: `added latency of ${op}, concurrency 1`,
        target: '<= 0.5 ms median over raw',
        measured: `${f(added)} ms (p50 ${f(w)} vs ${f(raw)} ms${m === undefined ? '' : `; the minimal broker adds ${f(m - raw)} ms`})`,
        met: added <= 0.5,
        margin: added <= 0.5 ? `${f(0.5 - added)} ms to spare` : `missed by ${f(added - 0.5)} ms`,
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

  // The plain warrens (the run's, the soak's): the --scale ones start with a seeded store.
  const started = Object.entries(r.rssAtStart ?? {});
  const plain = started.filter(([label]) => !label.includes('@')).map(([, mb]) => mb);
  if (plain.length) {
    const top = Math.max(...plain);
    goals.push({
      goal: 'RSS after start',
      target: '<= 60 MB',
      measured: started.map(([label, mb]) => `${label}: ${f(mb, 1)} MB`).join(', '),
      met: top <= 60,
      margin: top <= 60 ? `${f(60 - top, 1)} MB to spare` : `missed by ${f(top - 60, 1)} MB`,
    });
  }
  if (soak) {
    const full = soak.ops >= 100_000;
    goals.push({
      goal: 'RSS after 100,000 operations (--soak)',
      target: '<= 80 MB',
      measured: `${f(soak.rssEndMb, 1)} MB after ${soak.ops} ops`,
      met: full ? soak.rssEndMb <= 80 : null,
      margin: full ? (soak.rssEndMb <= 80 ? `${f(80 - soak.rssEndMb, 1)} MB to spare` : `missed by ${f(soak.rssEndMb - 80, 1)} MB`) : 'raise --soak-ops to 100000',
    });
  }

  for (const g of scaleGoals(r.scale)) goals.push(g);

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

/** warren's own share at the largest store against the empty one, per concurrency: flat within 10 %. */
function scaleGoals(scale: ScaleResult | undefined): Goal[] {
  const out: Goal[] = [];
  for (const row of scale?.byConcurrency ?? []) {
    const raw = row.arms.find((a) => a.arm === 'raw')?.result;
    const seeded = row.arms.filter((a) => a.instances !== undefined).sort((a, b) => a.instances! - b.instances!);
    const first = seeded[0];
    const last = seeded.at(-1);
    if (!raw || !first || !last || first === last) continue;
    const a = ownShare(first.result, raw);
    const b = ownShare(last.result, raw);
    for (const [what, x, y, unit] of [['latency (p50s over raw)', a.latencyMs, b.latencyMs, 'ms'], ['CPU', a.cpuMs, b.cpuMs, 'ms CPU']] as const) {
      const change = y / x - 1;
      const met = Number.isFinite(change) ? Math.abs(change) <= 0.1 : null;
      out.push({
        goal: `warren's own share per bind+unbind, ${what}, ${first.instances} -> ${last.instances} instances, concurrency ${row.concurrency}`,
        target: 'flat within +-10 %',
        measured: `${f(x)} -> ${f(y)} ${unit} (${change >= 0 ? '+' : ''}${f(change * 100, 0)} %)`,
        met,
        margin: met === null ? '' : met ? `${f((0.1 - Math.abs(change)) * 100, 0)} points to spare` : `off by ${f((Math.abs(change) - 0.1) * 100, 0)} points`,
      });
    }
  }
  return out;
}
