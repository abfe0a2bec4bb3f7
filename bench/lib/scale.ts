// The scale part of the bench (issue 14, item 4). Two questions:
// 1. Does warren's own share of a bind+unbind stay flat as its store grows? One warren per store
//    size, each seeded before it starts (seed-store.ts), binding on one real instance of its own,
//    interleaved round by round with raw, which separates RabbitMQ's own drift out.
// 2. How does RabbitMQ's vhost creation grow with the number of vhosts? Filler vhosts (the run's
//    prefix) are added level by level; at each level a few probe vhosts are created and deleted,
//    and bind+unbind is timed raw and through warren. The fillers are deleted at the end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoreConfig } from '../../src/store/create-store.ts';
import { startWarrenProcess } from '../../testkit/warren-process.ts';
import type { RawRabbit } from './raw-rabbit.ts';
import type { ArmResult, ScaleArm, ScaleConcurrency, ScaleResult, VhostLevel } from './results.ts';
import { type Names, Recorder, rotate, runRound, type Arm, type RoundContext } from './runner.ts';
import type { ScaleOptions } from './scale-options.ts';
import { seedStore } from './seed-store.ts';
import { Samples, summarize } from './stats.ts';
import { WarrenTarget } from './warren-target.ts';

const enc = encodeURIComponent;
/** The vhost part stops adding levels past this (the shared RabbitMQ carries the fillers meanwhile). */
const VHOST_PART_LIMIT_MS = 5 * 60_000;
/**
 * Every vhost holds files open in RabbitMQ (its message stores). At its file descriptor limit
 * RabbitMQ does not slow down, it breaks: with the default 1,024 here, ~400 extra vhosts made
 * Mnesia stop (emfile) and the node refused every login until restarted. So no filler is added
 * while RabbitMQ uses more than this share of its descriptors.
 */
const FD_SHARE_LIMIT = 0.5;
/** Fillers between two looks at RabbitMQ's descriptors. */
const FD_CHECK_EVERY = 10;

export interface ScaleDeps {
  opts: ScaleOptions;
  planId: string;
  raw: RawRabbit;
  /** The raw arm's vhost (exists). */
  rawVhost: string;
  names: Names;
  ctx: RoundContext;
  warmupSeconds: number;
  /** The environment of one warren process (with --postgres: WARREN_STORE_URL of a fresh database). */
  envFor(label: string): Promise<Record<string, string>>;
  warrenArm(w: WarrenTarget, instanceId: string): Arm;
  rawArm(vhost: string): Arm;
  /** Registered for the run's cleanup: processes to stop, instances to deprovision. */
  targets: WarrenTarget[];
  longLived: Array<[WarrenTarget, string]>;
  progress(msg: string): void;
  /** Told each seeded warren's RSS after start. */
  onStarted(label: string, rssMb: number): void;
}

interface Seeded {
  label: string;
  instances: number;
  bindings: number;
  seedS: number;
  rssAtStartMb: number;
  w: WarrenTarget;
  instanceId: string;
}

async function startSeeded(d: ScaleDeps, instances: number): Promise<Seeded> {
  const label = `warren@${instances}`;
  const env = await d.envFor(`scale_${instances}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-scale-'));
  const key = randomBytes(32);
  const store: StoreConfig = env.WARREN_STORE_URL ? { kind: 'postgres', url: env.WARREN_STORE_URL } : { kind: 'sqlite', dataDir };
  const bindings = instances * d.opts.bindingsPerInstance;
  d.progress(`scale: seeding ${label}'s ${store.kind} store with ${instances} instances and ${bindings} bindings`);
  const seedS = await seedStore({ store, key, planId: d.planId, instances, bindingsPerInstance: d.opts.bindingsPerInstance, prefix: d.names.prefix });
  const proc = await startWarrenProcess({ env: { ...env, WARREN_LOG_LEVEL: 'warn', WARREN_ENCRYPTION_KEY: key.toString('hex') }, dataDir });
  const w = new WarrenTarget(proc, label, 'warn', d.planId);
  d.targets.push(w);
  await sleep(1000); // RSS after start: once the start-up's allocations have settled
  const rssAtStartMb = w.rss();
  d.onStarted(label, rssAtStartMb);
  const instanceId = d.names.next('si');
  await w.provision(instanceId);
  d.longLived.push([w, instanceId]);
  d.progress(`scale: ${label} pid ${w.pid}, seeded in ${seedS.toFixed(1)} s, RSS ${rssAtStartMb.toFixed(0)} MB at start`);
  return { label, instances, bindings, seedS, rssAtStartMb, w, instanceId };
}

function armResult(rec: Recorder, tracked: boolean): ArmResult {
  return {
    cycles: rec.cycles,
    errors: rec.errors,
    elapsedS: rec.elapsedS,
    cyclesPerS: rec.cycles / rec.elapsedS,
    latency: Object.fromEntries([...rec.lat].map(([op, s]) => [op, summarize(s)])),
    driverCpuS: rec.driverCpuS,
    driverCpuMsPerCycle: (rec.driverCpuS * 1000) / rec.cycles,
    ...(tracked ? { brokerCpuS: rec.brokerCpuS, brokerCpuMsPerCycle: (rec.brokerCpuS * 1000) / rec.cycles, brokerSysShare: rec.brokerSysS / rec.brokerCpuS } : {}),
    ...(rec.rabbitCpuS ? { rabbitCpuS: rec.rabbitCpuS, rabbitCpuMsPerCycle: (rec.rabbitCpuS * 1000) / rec.cycles } : {}),
    ...(rec.lastError ? { lastError: rec.lastError } : {}),
  };
}

interface Entry {
  label: string;
  arm: Arm;
  seeded?: Seeded;
}

/** Interleaved rounds of the entries at one concurrency; cycles/s per round by label. */
async function interleave(d: ScaleDeps, entries: Entry[], c: number, rounds: number, seconds: number, warmup: number, tag: string): Promise<Map<Entry, { rec: Recorder; rounds: number[] }>> {
  for (const e of entries) if (warmup > 0) await runRound(e.arm, c, warmup, new Recorder(['bind', 'unbind']), d.ctx, -1);
  const out = new Map(entries.map((e) => [e, { rec: new Recorder(['bind', 'unbind']), rounds: [] as number[] }] as const));
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    for (const e of rotate(entries, r)) {
      const slot = out.get(e)!;
      const rr = await runRound(e.arm, c, seconds, slot.rec, d.ctx, r);
      slot.rounds.push(rr.cyclesPerS);
      line.push(`${e.label} ${rr.cyclesPerS.toFixed(1)}/s${rr.errors ? ` (${rr.errors} errors)` : ''}`);
    }
    d.progress(`${tag} concurrency ${c} round ${r + 1}/${rounds}: ${line.join(' | ')}`);
  }
  return out;
}

async function storeSizes(d: ScaleDeps, seeded: Seeded[]): Promise<ScaleConcurrency[]> {
  const entries: Entry[] = [
    ...seeded.map((s) => ({ label: s.label, arm: d.warrenArm(s.w, s.instanceId), seeded: s })),
    { label: 'raw', arm: d.rawArm(d.rawVhost) },
  ];
  const out: ScaleConcurrency[] = [];
  for (const c of d.opts.concurrency) {
    const res = await interleave(d, entries, c, d.opts.rounds, d.opts.seconds, d.warmupSeconds, 'scale');
    const arms: ScaleArm[] = entries.map((e) => {
      const { rec, rounds } = res.get(e)!;
      const s = e.seeded;
      return {
        arm: e.label, result: armResult(rec, s !== undefined), rounds,
        ...(s ? { instances: s.instances, bindings: s.bindings, seedS: s.seedS, rssAtStartMb: s.rssAtStartMb } : {}),
      };
    });
    out.push({ concurrency: c, arms });
  }
  return out;
}

/** RabbitMQ's file descriptors in use and its limit (the first node; the bench talks to one). */
async function descriptors(raw: RawRabbit): Promise<{ used: number; total: number }> {
  const a = await raw.http.expect([200], 'GET', '/api/nodes?columns=fd_used,fd_total');
  const n = (JSON.parse(a.text) as Array<{ fd_used?: number; fd_total?: number }>)[0];
  if (n?.fd_used === undefined || n.fd_total === undefined) throw new Error('RabbitMQ does not report its file descriptors (GET /api/nodes)');
  return { used: n.fd_used, total: n.fd_total };
}

async function countVhosts(raw: RawRabbit): Promise<number> {
  const a = await raw.http.expect([200], 'GET', '/api/vhosts?columns=name');
  return (JSON.parse(a.text) as unknown[]).length;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const putVhost = (raw: RawRabbit, name: string) =>
  raw.http.expect([201], 'PUT', `/api/vhosts/${enc(name)}`, JSON.stringify({ description: `warren bench filler ${name}`, tags: 'warren' }));
const deleteVhost = (raw: RawRabbit, name: string) => raw.http.expect([204, 404], 'DELETE', `/api/vhosts/${enc(name)}`);

async function vhostGrowth(d: ScaleDeps, w: Seeded, result: ScaleResult): Promise<void> {
  const fillers: string[] = [];
  const t0 = performance.now();
  const warrenEntry: Entry = { label: w.label, arm: d.warrenArm(w.w, w.instanceId), seeded: w };
  const rawEntry: Entry = { label: 'raw', arm: d.rawArm(d.rawVhost) };
  try {
    for (const level of d.opts.vhostLevels) {
      if (performance.now() - t0 > VHOST_PART_LIMIT_MS) {
        d.progress(`scale: vhost part past ${VHOST_PART_LIMIT_MS / 60_000} min, no level ${level}`);
        break;
      }
      const fill = new Samples();
      let full: string | undefined;
      while (fillers.length < level) {
        d.ctx.abort.check();
        if (fillers.length % FD_CHECK_EVERY === 0) {
          const fd = await descriptors(d.raw);
          if (fd.used > fd.total * FD_SHARE_LIMIT) {
            full = `RabbitMQ had ${fd.used} of ${fd.total} file descriptors in use at ${fillers.length} fillers`;
            break;
          }
        }
        const name = d.names.next('vf');
        fillers.push(name);
        fill.push(await timed(() => putVhost(d.raw, name)));
      }
      if (full) {
        result.vhostLimit = `no level ${level}: ${full} (the limit is ${FD_SHARE_LIMIT * 100} %)`;
        d.progress(`scale: ${result.vhostLimit}`);
        break;
      }
      const puts = new Samples();
      const deletes = new Samples();
      for (let i = 0; i < d.opts.vhostProbes; i++) {
        d.ctx.abort.check();
        const name = d.names.next('vp');
        puts.push(await timed(() => putVhost(d.raw, name)));
        deletes.push(await timed(() => deleteVhost(d.raw, name)));
      }
      const res = await interleave(d, [warrenEntry, rawEntry], 1, 2, Math.min(d.opts.seconds, 2), 0.3, `scale vhosts ${level}`);
      const v: VhostLevel = {
        filler: fillers.length,
        totalVhosts: await countVhosts(d.raw),
        rabbitFd: await descriptors(d.raw),
        putVhost: summarize(puts),
        deleteVhost: summarize(deletes),
        ...(fill.length ? { fillPutMeanMs: fill.values().reduce((a, b) => a + b, 0) / fill.length } : {}),
        warren: armResult(res.get(warrenEntry)!.rec, true),
        raw: armResult(res.get(rawEntry)!.rec, false),
      };
      result.vhosts.push(v);
      d.progress(`scale: ${v.totalVhosts} vhosts: PUT vhost p50 ${v.putVhost.p50.toFixed(1)} ms (fill mean ${v.fillPutMeanMs?.toFixed(1) ?? '-'} ms), raw bind/unbind p50 ${v.raw!.latency.bind!.p50.toFixed(2)}/${v.raw!.latency.unbind!.p50.toFixed(2)} ms`);
    }
  } finally {
    d.progress(`scale: deleting ${fillers.length} filler vhosts`);
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      for (let i = next++; i < fillers.length; i = next++) {
        await deleteVhost(d.raw, fillers[i]!).catch((err: Error) => failures.push(err.message));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    if (failures.length) d.progress(`scale: ${failures.length} filler deletions failed (the sweep retries them): ${failures[0]}`);
    result.vhostSeconds = (performance.now() - t0) / 1000;
  }
}

/** Fills `result` as it goes, so what was measured survives a failure of a later part. */
export async function runScale(d: ScaleDeps, result: ScaleResult): Promise<void> {
  const seeded: Seeded[] = [];
  for (const n of [...d.opts.sizes].sort((a, b) => a - b)) seeded.push(await startSeeded(d, n));
  result.byConcurrency = await storeSizes(d, seeded);
  // The vhost part binds through the smallest store's warren: its own share is the reference.
  if (d.opts.vhostLevels.length) await vhostGrowth(d, seeded[0]!, result);
}
