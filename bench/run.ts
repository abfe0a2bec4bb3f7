// npm run bench: warren against the raw RabbitMQ management API it sits in front of.
// See --help (lib/options.ts) and BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { STANDARD_PLAN_ID } from '../testkit/osb-client.ts';
import { renderHtml } from './lib/html-report.ts';
import { POOL_CONNECTIONS } from './lib/http.ts';
import { HELP, parseOptions, type Options } from './lib/options.ts';
import { MinimalBrokerTarget } from './lib/minimal-broker-target.ts';
import { findBeamPid } from './lib/proc.ts';
import { newestProfile, startProfiledWarren } from './lib/profiled-warren.ts';
import { RawRabbit, rawPlan } from './lib/raw-rabbit.ts';
import {
  RESULT_FORMAT, mergeResults, versusMinimal, type ArmName, type ArmResult, type BenchResult, type CallsPerOp, type ConcurrencyResult, type EndpointResult,
  type MemoryResult, type RoundResult, type ScenarioResult,
} from './lib/results.ts';
import { Abort, AbortedError, Names, Recorder, rotate, runRequests, runRound, type Arm, type RoundContext } from './lib/runner.ts';
import { Samples, median, summarize } from './lib/stats.ts';
import { renderMarkdown, renderText } from './lib/tables.ts';
import { runScale } from './lib/scale.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { WarrenTarget, callDelta, prepareWarren, sumValues } from './lib/warren-target.ts';
import { type BenchDatabase, createBenchDatabase } from './lib/bench-databases.ts';
import { readProfile, summarizeProfile } from './profile-summary.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const PLAN = STANDARD_PLAN_ID;
const DEFAULT_MGMT = 'http://guest:guest@127.0.0.1:15672';
const BENCH_MARKERS = ['<!-- bench:generated:start -->', '<!-- bench:generated:end -->'] as const;

const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

// --- the arms -------------------------------------------------------------------------------

function warrenBindArm(name: ArmName, w: WarrenTarget, instanceId: string, names: Names): Arm {
  return {
    name,
    warren: w,
    async cycle(rec) {
      const id = names.next('b');
      await rec.time('bind', () => w.bind(instanceId, id));
      await rec.time('unbind', () => w.unbind(instanceId, id));
    },
  };
}

/** The raw calls of a bind and an unbind; `confirm` adds the tracking GET warren once made inline. */
function rawBindArm(raw: RawRabbit, vhost: string, names: Names, confirm = false): Arm {
  return {
    name: confirm ? 'raw+confirm' : 'raw',
    async cycle(rec) {
      const user = names.next(confirm ? 'rc' : 'ru');
      await rec.time('bind', async () => {
        await raw.putUser(user);
        await raw.putPermissions(vhost, user);
      });
      await rec.time('unbind', async () => {
        await raw.deleteUser(user);
        await raw.closeConnections(user);
        if (confirm) await raw.listConnections(user);
      });
    },
  };
}

function minimalArm(mb: MinimalBrokerTarget, vhost: string, names: Names): Arm {
  return {
    name: 'minimal',
    proc: mb,
    async cycle(rec) {
      const id = names.next('mb');
      await rec.time('bind', () => mb.bind(vhost, id));
      await rec.time('unbind', () => mb.unbind(vhost, id));
    },
  };
}

function warrenProvisionArm(w: WarrenTarget, names: Names): Arm {
  return {
    name: 'warren',
    warren: w,
    async cycle(rec) {
      const id = names.next('i');
      await rec.time('provision', () => w.provision(id));
      await rec.time('deprovision', () => w.deprovision(id));
    },
  };
}

function rawProvisionArm(raw: RawRabbit, names: Names): Arm {
  return {
    name: 'raw',
    async cycle(rec) {
      const vhost = names.next('rv');
      await rec.time('provision', () => raw.provision(vhost, `warren service instance ${vhost}`));
      await rec.time('deprovision', () => raw.deleteVhost(vhost));
    },
  };
}

// --- phases ---------------------------------------------------------------------------------

interface ScenarioDef {
  id: ScenarioResult['id'];
  title: string;
  ops: [string, string];
  describes: ScenarioResult['describes'];
  arms: Arm[];
  rounds: number;
  seconds: number;
}

async function runScenario(def: ScenarioDef, opts: Options, ctx: RoundContext): Promise<ScenarioResult> {
  const byConcurrency: ConcurrencyResult[] = [];
  for (const c of opts.concurrency) {
    progress(`${def.id} concurrency ${c}: warm-up ${opts.warmupSeconds} s per arm`);
    for (const arm of def.arms) if (opts.warmupSeconds > 0) await runRound(arm, c, opts.warmupSeconds, new Recorder(def.ops), ctx, -1);
    const before = new Map<Arm, Map<string, number>>();
    for (const arm of def.arms) if (arm.warren) before.set(arm, await arm.warren.managementCalls());
    const recs = new Map(def.arms.map((a) => [a, new Recorder(def.ops)] as const));
    const rounds: RoundResult[] = [];
    for (let r = 0; r < def.rounds; r++) {
      const line: string[] = [];
      for (const arm of rotate(def.arms, r)) {
        const rr = await runRound(arm, c, def.seconds, recs.get(arm)!, ctx, r);
        rounds.push(rr);
        line.push(`${arm.name} ${f(rr.cyclesPerS)}/s${rr.errors ? ` (${rr.errors} errors)` : ''}`);
      }
      progress(`${def.id} concurrency ${c} round ${r + 1}/${def.rounds}: ${line.join(' | ')}`);
    }
    const arms: ConcurrencyResult['arms'] = {};
    for (const arm of def.arms) {
      const rec = recs.get(arm)!;
      const a: ArmResult = {
        cycles: rec.cycles,
        errors: rec.errors,
        elapsedS: rec.elapsedS,
        cyclesPerS: rec.cycles / rec.elapsedS,
        latency: Object.fromEntries(def.ops.map((op) => [op, summarize(rec.lat.get(op)!)])),
        driverCpuS: rec.driverCpuS,
        driverCpuMsPerCycle: (rec.driverCpuS * 1000) / rec.cycles,
        ...(ctx.beamPid ? { rabbitCpuS: rec.rabbitCpuS, rabbitCpuMsPerCycle: (rec.rabbitCpuS * 1000) / rec.cycles } : {}),
        ...(ctx.pgCpu ? { pgCpuS: rec.pgCpuS, pgCpuMsPerCycle: (rec.pgCpuS * 1000) / rec.cycles } : {}),
        ...(rec.lastError ? { lastError: rec.lastError } : {}),
      };
      const proc = arm.proc ?? arm.warren;
      if (proc) {
        a.brokerCpuS = rec.brokerCpuS;
        a.brokerCpuMsPerCycle = (rec.brokerCpuS * 1000) / rec.cycles;
        a.brokerSysShare = rec.brokerSysS / rec.brokerCpuS;
        a.brokerRssMb = proc.rss();
      }
      if (arm.warren) {
        const calls = callDelta(before.get(arm)!, await arm.warren.managementCalls());
        a.managementCalls = calls;
        a.managementCallsPerCycle = sumValues(calls) / rec.cycles;
      }
      arms[arm.name] = a;
    }
    const perRound = (name: ArmName) => rounds.filter((x) => x.arm === name).map((x) => x.cyclesPerS);
    const w = perRound('warren');
    const raw = perRound('raw');
    const row: ConcurrencyResult = {
      concurrency: c,
      arms,
      rounds,
      ratio: (arms.warren?.cyclesPerS ?? NaN) / (arms.raw?.cyclesPerS ?? NaN),
      roundRatios: w.map((x, i) => x / raw[i]!),
      medianRoundRatio: median(w.map((x, i) => x / raw[i]!)),
      ...(arms['warren-info'] ? { infoRatio: arms['warren-info'].cyclesPerS / (arms.warren?.cyclesPerS ?? NaN) } : {}),
    };
    byConcurrency.push(row);
    const vm = versusMinimal(row);
    progress(`${def.id} concurrency ${c}: warren ${f(arms.warren?.cyclesPerS)}/s, raw ${f(arms.raw?.cyclesPerS)}/s, ratio ${f(row.ratio, 3)}${vm ? `; minimal ${f(arms.minimal?.cyclesPerS)}/s, warren/minimal median of rounds ${f(vm.median, 3)}` : ''}`);
  }
  return { id: def.id, title: def.title, ops: def.ops, describes: def.describes, byConcurrency };
}

/** Management calls per operation through warren, from /metrics around a few sequential operations. */
async function calibrate(w: WarrenTarget, instanceId: string, names: Names, opts: Options, abort: Abort): Promise<CallsPerOp[]> {
  const out: CallsPerOp[] = [];
  const plan = rawPlan(PLAN);
  const measure = async (op: string, rawCalls: number, n: number, fn: (i: number) => Promise<void>) => {
    const before = await w.managementCalls();
    for (let i = 0; i < n; i++) {
      abort.check();
      await fn(i);
    }
    const delta = callDelta(before, await w.managementCalls());
    out.push({
      op, samples: n, callsPerOp: sumValues(delta) / n, rawCallsPerOp: rawCalls,
      breakdown: Object.fromEntries(Object.entries(delta).map(([k, v]) => [k, v / n])),
    });
  };
  if (opts.scenarios.has('bind')) {
    const ids = Array.from({ length: opts.mode === 'quick' ? 10 : 30 }, () => names.next('cb'));
    await measure('bind', 2, ids.length, (i) => w.bind(instanceId, ids[i]!));
    await measure('unbind', 2, ids.length, (i) => w.unbind(instanceId, ids[i]!));
  }
  if (opts.scenarios.has('provision')) {
    const ids = Array.from({ length: opts.mode === 'quick' ? 3 : 10 }, () => names.next('ci'));
    const rawProvision = 2 + plan.vhostLimits.length + plan.policies.length + plan.operatorPolicies.length;
    await measure('provision', rawProvision, ids.length, (i) => w.provision(ids[i]!));
    await measure('deprovision', 1, ids.length, (i) => w.deprovision(ids[i]!));
  }
  return out;
}

async function osbapiLayer(w: WarrenTarget, instanceId: string, bindingId: string, opts: Options, abort: Abort): Promise<EndpointResult[]> {
  const endpoints: Array<[string, string]> = [
    ['GET /v2/catalog', '/v2/catalog'],
    ['GET instance (bound)', `/v2/service_instances/${instanceId}`],
    ['GET binding', `/v2/service_instances/${instanceId}/service_bindings/${bindingId}`],
  ];
  const out: EndpointResult[] = [];
  for (const [endpoint, path] of endpoints) {
    for (const c of opts.concurrency) {
      // Warm-up, unmeasured.
      await runRequests(c, Math.min(0.3, opts.osbapiSeconds), () => w.osb.expect([200], 'GET', path).then(() => undefined), new Samples(), abort);
      const samples = new Samples();
      const cpu0 = w.cpu();
      const r = await runRequests(c, opts.osbapiSeconds, () => w.osb.expect([200], 'GET', path).then(() => undefined), samples, abort);
      const cpu = w.cpu() - cpu0;
      out.push({
        endpoint, path: path.replace(instanceId, '{instance}').replace(bindingId, '{binding}'), concurrency: c,
        requests: r.requests, errors: r.errors, elapsedS: r.elapsedS, requestsPerS: r.requests / r.elapsedS,
        latency: summarize(samples), warrenCpuS: cpu, warrenCpuMsPerRequest: (cpu * 1000) / r.requests,
      });
      progress(`osbapi ${endpoint} concurrency ${c}: ${f(r.requests / r.elapsedS, 0)} req/s, warren CPU ${f((cpu * 1000) / r.requests, 3)} ms/req${r.errors ? `, ${r.errors} errors (${r.lastError})` : ''}`);
    }
  }
  return out;
}

function memoryResult(source: MemoryResult['source'], samples: MemoryResult['samples'], extra: Partial<MemoryResult> = {}): MemoryResult | undefined {
  const first = samples.find((s) => s.ops >= 1000);
  const last = samples.at(-1);
  if (!first || !last) return undefined;
  return {
    source,
    ops: last.ops,
    rssAfter1kMb: first.rssMb,
    rssEndMb: last.rssMb,
    rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
    growthMb: last.rssMb - first.rssMb,
    samples,
    ...extra,
  };
}

/** RSS of a freshly started warren, a second after it started listening (start-up allocations settled). */
async function settledRss(w: WarrenTarget): Promise<number> {
  await sleep(1000);
  return w.rss();
}

/** A fresh warren; bind/unbind until `soakOps` operations; RSS along the way. */
async function soak(
  opts: Options, names: Names, targets: WarrenTarget[], env: Record<string, string>, abort: Abort, onStarted: (label: string, rssMb: number) => void,
): Promise<MemoryResult | undefined> {
  progress(`soak: fresh warren, ${opts.soakOps} operations at concurrency ${opts.soakConcurrency}`);
  const w = await WarrenTarget.start('soak', 'warn', PLAN, env);
  targets.push(w);
  const rssAtStartMb = await settledRss(w);
  onStarted('soak', rssAtStartMb);
  const instance = names.next('si');
  await w.provision(instance);
  const arm = warrenBindArm('warren', w, instance, names);
  const rec = new Recorder(['bind', 'unbind']);
  const target = opts.soakOps + 1; // + the provision
  const t0 = performance.now();
  let lastReport = t0;
  let errors = 0;
  let failed: unknown;
  const worker = async () => {
    while (!abort.aborted && failed === undefined && w.ops < target) {
      try {
        await arm.cycle(rec);
      } catch (err) {
        if (++errors > 50) failed ??= err;
      }
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`soak: ${w.ops} ops, RSS ${f(w.rss())} MB, ${f(w.ops / ((lastReport - t0) / 1000), 0)} ops/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.soakConcurrency }, worker));
  if (failed !== undefined) throw new Error(`soak: more than 50 failed cycles; last: ${(failed as Error).message}`);
  abort.check();
  const durationS = (performance.now() - t0) / 1000;
  const end = await w.sampleNow();
  await w.deprovision(instance);
  const mem = memoryResult('soak', w.memory.filter((s) => s.ops <= end.ops), {
    concurrency: opts.soakConcurrency, durationS, opsPerS: end.ops / durationS, rssAtStartMb,
  });
  progress(`soak: done, ${end.ops} ops in ${f(durationS, 0)} s, RSS ${f(w.memory[0]?.rssMb)} at start, ${f(mem?.rssAfter1kMb)} after 1k ops -> ${f(mem?.rssEndMb)} MB (${errors} errors)`);
  await w.stop();
  targets.splice(targets.indexOf(w), 1);
  return mem;
}

async function profile(
  opts: Options, names: Names, targets: WarrenTarget[], ctx: RoundContext, env: Record<string, string>,
): Promise<BenchResult['profile']> {
  const dir = opts.profileDir ?? mkdtempSync(join(tmpdir(), 'warren-bench-cpuprof-'));
  progress(`profile: ${opts.profileBaseline ? `the baseline warren (${opts.baseline})` : 'warren'} under node --cpu-prof (profiles in ${dir}), bind/unbind at concurrency ${opts.profileConcurrency} for ${opts.profileSeconds} s`);
  const spawnedAt = performance.now();
  const proc = await startProfiledWarren(dir, env, opts.profileBaseline ? opts.baseline : undefined);
  const w = new WarrenTarget(proc, 'profiled', 'warn', PLAN);
  targets.push(w);
  const instance = names.next('pi');
  await w.provision(instance);
  const arm = warrenBindArm('warren', w, instance, names);
  await runRound(arm, opts.profileConcurrency, 1, new Recorder(['bind', 'unbind']), ctx, -1);
  const ops0 = w.ops;
  const fromMs = performance.now() - spawnedAt;
  await runRound(arm, opts.profileConcurrency, opts.profileSeconds, new Recorder(['bind', 'unbind']), ctx, 0);
  const toMs = performance.now() - spawnedAt;
  const ops = w.ops - ops0;
  await w.deprovision(instance);
  await w.stop();
  targets.splice(targets.indexOf(w), 1);
  const file = newestProfile(dir);
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  // The window starts a little late (the profile starts after spawn): start-up stays out.
  const summary = summarizeProfile(readProfile(file), file, { ops, fromMs, toMs, top: 30 });
  progress(`profile: ${file}: ${ops} ops, ${f(summary.activeUsPerOp, 0)} µs of warren CPU per op`);
  return { ...summary, concurrency: opts.profileConcurrency, seconds: opts.profileSeconds };
}

function environment(versions: { rabbitmq: string; erlang: string }): Record<string, string | number> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  let warren = '?';
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    warren = `${head}${dirty ? ' + uncommitted src changes' : ''}`;
  } catch {
    /* not a git checkout */
  }
  let os = `${type()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) os = `${pretty}, kernel ${release()}`;
  } catch {
    /* no os-release */
  }
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os,
    rabbitmq: versions.rabbitmq,
    erlang: versions.erlang,
    warren,
    undici: pkg('undici'),
    fastify: pkg('fastify'),
    pino: pkg('pino'),
    betterSqlite3: pkg('better-sqlite3'),
    loadAvgAtStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

// --- the run ----------------------------------------------------------------------------------

async function measure(opts: Options): Promise<BenchResult> {
  prepareWarren(opts, progress);
  const startedAt = new Date();
  const t0 = performance.now();
  const abort = new Abort();
  let interrupts = 0;
  const onSignal = (sig: string) => {
    if (++interrupts > 1) {
      process.stderr.write(`\n[bench] second ${sig}: exiting now; users and vhosts starting with the run prefix may remain\n`);
      process.exit(130);
    }
    progress(`${sig}: stopping after the operations in flight, then cleaning up (again to quit at once)`);
    abort.reason = `interrupted by ${sig}`;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const mgmt = new URL(opts.managementUrl);
  const rabbitUser = decodeURIComponent(mgmt.username || 'guest');
  const rabbitPassword = decodeURIComponent(mgmt.password || 'guest');
  const warrenEnv: Record<string, string> = opts.managementUrl === DEFAULT_MGMT ? {} : { WARREN_MANAGEMENT_URLS: opts.managementUrl };
  const databases: BenchDatabase[] = [];
  /** The environment of one warren process: with --postgres, a fresh database of its own. */
  const envFor = async (label: string): Promise<Record<string, string>> => {
    if (!opts.postgres) return warrenEnv;
    const db = await createBenchDatabase(opts.postgres, `${prefix.replace(/-$/, '')}_${label}`.replace(/[^a-z0-9_]/g, '_'));
    databases.push(db);
    return { ...warrenEnv, WARREN_STORE_URL: db.url };
  };
  const raw = new RawRabbit(mgmt.origin, rabbitUser, rabbitPassword, rawPlan(PLAN));
  const prefix = `wb${randomBytes(4).toString('hex')}-`;
  const names = new Names(prefix);
  const targets: WarrenTarget[] = [];
  const others: MinimalBrokerTarget[] = [];
  const beamPid = findBeamPid();
  const ctx: RoundContext = { abort, beamPid, maxErrors: 20, ...(opts.postgres ? { pgCpu: true } : {}) };

  const versions = await raw.version().catch((err: Error) => {
    throw new Error(`RabbitMQ management does not answer at ${mgmt.origin} (${err.message}); try scripts/rabbitmq-up.sh`);
  });
  const result: BenchResult = {
    format: RESULT_FORMAT,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationS: 0,
    mode: opts.mode,
    settings: {
      concurrency: opts.concurrency,
      rounds: { 'bind-unbind': opts.bindRounds, 'provision-deprovision': opts.provisionRounds },
      roundSeconds: { 'bind-unbind': opts.bindSeconds, 'provision-deprovision': opts.provisionSeconds, osbapi: opts.osbapiSeconds },
      warmupSeconds: opts.warmupSeconds,
      poolConnections: POOL_CONNECTIONS,
      planId: PLAN,
      logLevel: 'warn',
      extraArms: opts.scenarios.has('bind') ? [...opts.extraArms] : [],
      store: opts.postgres ? 'postgres' : 'sqlite',
      ...(opts.baseline ? { baseline: opts.baseline } : {}),
      ...(opts.scale ? { scale: opts.scaleOptions } : {}),
    },
    environment: { ...environment(versions), warren: opts.tsx ? 'sources through tsx' : 'compiled build, npm start flags' },
    scenarios: [],
    osbapi: [],
    calibration: [],
    memory: [],
  };
  progress(`run prefix ${prefix} (every user and vhost of this run starts with it); RabbitMQ ${versions.rabbitmq}, beam.smp pid ${beamPid ?? 'not found'}`);

  const longLived: Array<[WarrenTarget, string]> = [];
  const rawVhosts: string[] = [];
  try {
    const w = await WarrenTarget.start('warren', 'warn', PLAN, await envFor('warren'));
    targets.push(w);
    const rssAtStartMb = await settledRss(w);
    result.rssAtStart = { warren: rssAtStartMb };
    progress(`warren (warn) pid ${w.pid} at ${w.proc.url}, RSS ${f(rssAtStartMb)} MB after start`);
    const bindInstance = names.next('wi');
    await w.provision(bindInstance);
    longLived.push([w, bindInstance]);
    const rawVhost = names.next('rvb');
    rawVhosts.push(rawVhost);
    await raw.provision(rawVhost, `warren service instance ${rawVhost}`);

    result.calibration = await calibrate(w, bindInstance, names, opts, abort);
    if (result.calibration.length) progress(`management calls per operation through warren: ${result.calibration.map((c) => `${c.op} ${f(c.callsPerOp, 2)}`).join(', ')}`);

    if (opts.scenarios.has('bind')) {
      const arms: Arm[] = [warrenBindArm('warren', w, bindInstance, names)];
      if (opts.extraArms.has('minimal')) {
        const mb = await MinimalBrokerTarget.start(mgmt.origin, raw.authorization, raw.plan.userTags);
        others.push(mb);
        progress(`minimal broker pid ${mb.pid} at ${mb.url}`);
        const mbVhost = names.next('rvm');
        rawVhosts.push(mbVhost);
        await raw.provision(mbVhost, `warren service instance ${mbVhost}`);
        arms.push(minimalArm(mb, mbVhost, names));
      }
      arms.push(rawBindArm(raw, rawVhost, names));
      if (opts.extraArms.has('raw+confirm')) arms.push(rawBindArm(raw, rawVhost, names, true));
      if (opts.baseline) {
        const b = await WarrenTarget.start('baseline', 'warn', PLAN, await envFor('baseline'), opts.baseline);
        targets.push(b);
        progress(`baseline warren (${opts.baseline}) pid ${b.pid} at ${b.proc.url}`);
        const baseInstance = names.next('wbi');
        await b.provision(baseInstance);
        longLived.push([b, baseInstance]);
        arms.push(warrenBindArm('baseline', b, baseInstance, names));
      }
      if (opts.extraArms.has('warren-info')) {
        const wi = await WarrenTarget.start('warren-info', 'info', PLAN, await envFor('warren_info'));
        targets.push(wi);
        progress(`warren (info) pid ${wi.pid} at ${wi.proc.url}`);
        const infoInstance = names.next('wii');
        await wi.provision(infoInstance);
        longLived.push([wi, infoInstance]);
        arms.push(warrenBindArm('warren-info', wi, infoInstance, names));
      }
      const s = await runScenario({
        id: 'bind-unbind',
        title: 'Bind + unbind',
        ops: ['bind', 'unbind'],
        describes: {
          warren: 'PUT then DELETE /v2/service_instances/{i}/service_bindings/{b} (plan "standard", WARREN_LOG_LEVEL=warn)',
          raw: 'PUT /api/users/{u} + PUT /api/permissions/{vh}/{u}; then DELETE /api/users/{u} + DELETE /api/connections/username/{u}',
          ...(opts.extraArms.has('raw+confirm') ? { 'raw+confirm': 'raw, plus the GET /api/connections/username/{u} that warren adds to each unbind' } : {}),
          ...(opts.extraArms.has('minimal') ? { minimal: 'bench/support/minimal-broker.ts: its own Node process (node:http + undici pool of 32) making exactly the calls warren\'s guarantees need: PUT user + PUT permissions; then DELETE user + GET connections/username; no store, schema, auth check, locks, metrics or logging' } : {}),
          ...(opts.extraArms.has('warren-info') ? { 'warren-info': 'as warren, a second process at WARREN_LOG_LEVEL=info' } : {}),
          ...(opts.baseline ? { baseline: `as warren, run from the checkout in ${opts.baseline}` } : {}),
        },
        arms,
        rounds: opts.bindRounds,
        seconds: opts.bindSeconds,
      }, opts, ctx);
      result.scenarios.push(s);
      if (opts.extraArms.has('warren-info')) {
        result.logging = s.byConcurrency.map((c) => ({
          concurrency: c.concurrency,
          infoRatio: c.infoRatio ?? NaN,
          warnCpuMsPerCycle: c.arms.warren?.brokerCpuMsPerCycle,
          infoCpuMsPerCycle: c.arms['warren-info']?.brokerCpuMsPerCycle,
        }));
      }
    }

    if (opts.scenarios.has('provision')) {
      const plan = rawPlan(PLAN);
      result.scenarios.push(await runScenario({
        id: 'provision-deprovision',
        title: 'Provision + deprovision',
        ops: ['provision', 'deprovision'],
        describes: {
          warren: 'PUT then DELETE /v2/service_instances/{i} (plan "standard")',
          raw: `PUT /api/vhosts/{vh} + PUT /api/permissions/{vh}/{admin}, then concurrently ${[...plan.vhostLimits.map(([n]) => `PUT vhost-limits ${n}`), ...plan.operatorPolicies.map(([n]) => `PUT operator-policies ${n}`)].join(', ')}; then DELETE /api/vhosts/{vh}`,
        },
        arms: [warrenProvisionArm(w, names), rawProvisionArm(raw, names)],
        rounds: opts.provisionRounds,
        seconds: opts.provisionSeconds,
      }, opts, ctx));
    }

    if (opts.scenarios.has('osbapi')) {
      const bindingId = names.next('ob');
      await w.bind(bindInstance, bindingId);
      result.osbapi = await osbapiLayer(w, bindInstance, bindingId, opts, abort);
    }

    await w.sampleNow();
    if (opts.scale) {
      result.scale = { bindingsPerInstance: opts.scaleOptions.bindingsPerInstance, byConcurrency: [], vhosts: [] };
      await runScale({
        opts: opts.scaleOptions, planId: PLAN, raw, rawVhost, names, ctx, warmupSeconds: opts.warmupSeconds, envFor,
        warrenArm: (t, instanceId) => warrenBindArm('warren', t, instanceId, names),
        rawArm: (vhost) => rawBindArm(raw, vhost, names),
        targets, longLived, progress, onStarted: (label, mb) => (result.rssAtStart = { ...result.rssAtStart, [label]: mb }),
      }, result.scale);
    }

    const runMem = memoryResult('run', [...w.memory], { rssAtStartMb });
    if (runMem) result.memory.push(runMem);

    if (opts.soak) {
      const m = await soak(opts, names, targets, warrenEnv, abort, (label, mb) => (result.rssAtStart = { ...result.rssAtStart, [label]: mb }));
      if (m) result.memory.push(m);
    }
    if (opts.profile) result.profile = await profile(opts, names, targets, ctx, await envFor('profile'));
  } catch (err) {
    result.aborted = err instanceof AbortedError ? err.message : (err as Error).stack ?? String(err);
    progress(`run failed or interrupted: ${err instanceof AbortedError ? err.message : (err as Error).message}`);
  } finally {
    for (const nb of others) await nb.stop().catch(() => null);
    result.cleanup = await cleanup(raw, prefix, targets, longLived, rawVhosts, abort);
    for (const db of databases) await db.drop().catch((err: Error) => progress(`cleanup: dropping a bench database failed: ${err.message}`));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  result.environment.loadAvgAtEnd = loadavg().map((x) => x.toFixed(2)).join(' ');
  result.finishedAt = new Date().toISOString();
  result.durationS = (performance.now() - t0) / 1000;
  return result;
}

/** Deletes what the run created: through warren first (normal path), then a sweep by prefix. */
async function cleanup(
  raw: RawRabbit,
  prefix: string,
  targets: WarrenTarget[],
  longLived: Array<[WarrenTarget, string]>,
  rawVhosts: string[],
  abort: Abort,
): Promise<NonNullable<BenchResult['cleanup']>> {
  progress('cleanup: deprovisioning through warren, stopping warren, sweeping the run prefix');
  if (!abort.aborted) {
    for (const [w, id] of longLived) await w.deprovision(id).catch((err: Error) => progress(`cleanup: deprovision ${id} failed: ${err.message}`));
  }
  for (const vh of rawVhosts) await raw.deleteVhost(vh).catch((err: Error) => progress(`cleanup: delete vhost ${vh} failed: ${err.message}`));
  for (const w of targets) {
    const code = await w.stop().catch(() => null);
    if (code !== 0) progress(`cleanup: ${w.label} (pid ${w.pid}) exited with ${code}`);
  }
  targets.length = 0;
  let out = { users: 0, vhosts: 0, leftovers: -1, failures: [] as string[] };
  try {
    const swept = await raw.sweep(prefix);
    out = { ...swept, leftovers: await raw.leftovers(prefix) };
    progress(`cleanup: swept ${swept.users} users and ${swept.vhosts} vhosts; ${out.leftovers} left with prefix ${prefix}`);
  } catch (err) {
    out.failures.push((err as Error).message);
    progress(`cleanup: sweep failed (${(err as Error).message}); delete users/vhosts starting with ${prefix} by hand`);
  }
  await raw.close().catch(() => undefined);
  return out;
}

function emit(result: BenchResult, opts: Options): void {
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify(result, null, 1) + '\n');
    progress(`wrote ${opts.json}`);
  }
  if (opts.report) {
    writeFileSync(opts.report, renderHtml(result));
    progress(`wrote ${opts.report}`);
  }
  if (opts.updateBenchmarks) {
    const text = readFileSync(opts.updateBenchmarks, 'utf8');
    const a = text.indexOf(BENCH_MARKERS[0]);
    const b = text.indexOf(BENCH_MARKERS[1]);
    if (a < 0 || b < a) throw new Error(`${opts.updateBenchmarks} has no ${BENCH_MARKERS[0]} ... ${BENCH_MARKERS[1]} section`);
    writeFileSync(opts.updateBenchmarks, text.slice(0, a + BENCH_MARKERS[0].length) + '\n' + renderMarkdown(result) + '\n' + text.slice(b));
    progress(`updated ${opts.updateBenchmarks}`);
  }
  process.stdout.write((opts.markdown ? renderMarkdown(result) : renderText(result)) + '\n');
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.from.length) {
    const results = opts.from.map((file) => {
      const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
      if (r.format !== RESULT_FORMAT) throw new Error(`${file} is not a ${RESULT_FORMAT} file`);
      return r;
    });
    const merged = results.slice(1).reduce(mergeResults, results[0]!);
    if (results.length > 1) merged.mergedFrom = opts.from;
    emit(merged, opts);
    return 0;
  }
  const result = await measure(opts);
  emit(result, opts);
  if (result.cleanup && result.cleanup.leftovers !== 0) return 1;
  return result.aborted ? 1 : 0;
}

process.exitCode = await main();
