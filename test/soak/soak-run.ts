// The soak: warren as its own process under a low `ulimit -n`, tens of thousands of bind/unbind
// cycles at high concurrency plus provision/deprovision cycles, some with live AMQP connections
// that unbind (or deprovision) must kill, some failing on purpose, while the leak module samples
// the broker process from outside. It fails on any leak class, on fd growth beyond the
// management pool, on RSS growth beyond a stated bound, on any unexpected answer, on a surviving
// AMQP connection and on anything left in RabbitMQ; it prints a short table and can write an
// HTML/SVG picture of fds, sockets by state and RSS over time.
//
//   npm run soak -- --help
//
// runSoak() is what the tests call; the CLI at the bottom wraps it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  describeLeakGroup,
  describeSettleFailure,
  findLeaks,
  settle,
  summarizeSockets,
  takeSnapshot,
  type LeakClass,
  type SettleResult,
  type Snapshot,
  type SocketSummary,
} from '../../packages/leakguard/src/index.ts';
import { DEFAULT_SERVICE_ID, OsbClient, STANDARD_PLAN_ID, type OsbAnswer } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { renderChartSvg, type ChartSpec } from '../../testkit/svg-charts.ts';
import { renderHtml } from './soak-page.ts';
import {
  Latencies,
  RabbitAdmin,
  fmtDuration,
  fmtMs,
  mb,
  openAmqp,
  readOpenFilesLimit,
  readRssKb,
  sleep,
  within,
  type LiveConnection,
} from './soak-support.ts';

// ---------------------------------------------------------------------------------------------
// Options

export interface SoakOptions {
  /** Measured bind/unbind cycles (warm-up not included). */
  cycles: number;
  /** Cycles run before the baseline is taken (same mix). */
  warmupCycles: number;
  /** Workers, each running one cycle at a time: the number of OSBAPI requests in flight. */
  concurrency: number;
  /** `ulimit -n` of the warren process (soft and hard). */
  fdLimit: number;
  /** Instances the bind/unbind cycles spread over. */
  instances: number;
  /** rabbitmq.pool.connections given to warren: its management sockets, and the allowed fd growth. */
  poolConnections: number;
  /** Every Nth cycle's binding opens a real AMQP connection that the unbind must kill (0: never). */
  amqpEvery: number;
  /** After every Nth cycle, one request that must fail with a given status (0: never). */
  failEvery: number;
  /** After every Nth cycle, one provision/bind/deprovision cycle (0: never). */
  provisionEvery: number;
  /** At most this many AMQP connections open at once (RabbitMQ itself runs with 1024 fds). */
  maxAmqpConnections: number;
  /** A killed AMQP connection must see 'close' within this long after the OSBAPI answer. */
  amqpCloseTimeoutMs: number;
  sampleIntervalMs: number;
  /** Peak RSS may exceed the post-warm-up RSS by at most this much. */
  rssBoundMb: number;
  /** Peak fds may exceed the idle (just started) count by pool + concurrency + this. */
  fdSlack: number;
  /** Hard deadline for setup, warm-up and the cycles; cleanup and settling have their own bounds. */
  deadlineMs: number;
  /** How long settle() may poll for the broker to be back at its baseline. */
  settleMs: number;
  /**
   * Known warren bug (see docs/soak.md): an unbind or deprovision of a binding with a live
   * connection sometimes answers 502 because RabbitMQ 3.10 answered 500 to
   * DELETE /api/connections/username/{user} right after DELETE /api/users/{user}. false (strict):
   * such an answer is unexpected and fails the soak. true: it is counted and the request is
   * repeated, as a platform would, and the repeat must succeed.
   */
  retryKnown500: boolean;
  /** Stop early after this many unexpected answers (the run has failed anyway). */
  maxUnexpected: number;
  /** TypeScript entry instead of `warren serve` (e.g. test/soak/leaky-warren.ts). */
  entry?: string;
  /** Extra environment for the warren process. */
  env?: Record<string, string>;
  managementUrl: string;
  adminUser: string;
  adminPassword: string;
  /** Progress lines (default: stderr). */
  log: (line: string) => void;
  /** Progress line period. */
  progressEveryMs: number;
  /** Called once warren listens (tests inspect the process while it runs). */
  onStarted?: (info: { pid: number; url: string }) => void | Promise<void>;
}

export const DEFAULT_OPTIONS: SoakOptions = {
  cycles: 20_000,
  warmupCycles: 400,
  concurrency: 32,
  fdLimit: 256,
  instances: 4,
  poolConnections: 32,
  amqpEvery: 50,
  failEvery: 25,
  provisionEvery: 100,
  maxAmqpConnections: 24,
  amqpCloseTimeoutMs: 5_000,
  sampleIntervalMs: 250,
  rssBoundMb: 64,
  fdSlack: 16,
  deadlineMs: 15 * 60_000,
  settleMs: 10_000,
  retryKnown500: false,
  maxUnexpected: 200,
  managementUrl: process.env.RABBITMQ_MGMT_URL ?? 'http://127.0.0.1:15672',
  adminUser: (process.env.RABBITMQ_ADMIN ?? 'guest:guest').split(':')[0] ?? 'guest',
  adminPassword: (process.env.RABBITMQ_ADMIN ?? 'guest:guest').split(':').slice(1).join(':') || 'guest',
  log: (line) => process.stderr.write(line + '\n'),
  progressEveryMs: 10_000,
};

// ---------------------------------------------------------------------------------------------
// Results

export type Phase = 'setup' | 'warm-up' | 'quiet' | 'run' | 'cleanup' | 'settle';

export interface Sample {
  /** ms since the soak started. */
  t: number;
  phase: Phase;
  fds: { socket: number; pipe: number; file: number; anon_inode: number; other: number; total: number };
  soft: number | null;
  /** All TCP sockets of the process by state (LISTEN included). */
  states: Record<string, number>;
  /** Sockets to the management node(s), by state. */
  mgmt: Record<string, number>;
  /** Accepted OSBAPI connections, by state. */
  inbound: Record<string, number>;
  /** Sockets in CLOSE_WAIT or ESTABLISHED with unread bytes (leak candidates; busy ones too). */
  unread: number;
  /** Leak classes judged over the last four samples (about a second); informational. */
  rolling: Record<LeakClass, number>;
  /** When rolling is not all zero: its groups, e.g. "stuck-rx 1 out 127.0.0.1:15672". */
  rollingGroups?: string[];
  rssKb: number | null;
}

export interface FailureKind {
  kind: string;
  status: number;
  what: string;
}

/** The answers the soak provokes on purpose, and the status each must get. */
export const FAILURE_KINDS: readonly FailureKind[] = [
  { kind: 'provision-unknown-plan', status: 400, what: 'provision with a plan_id that is not in the catalog' },
  { kind: 'bind-unknown-plan', status: 400, what: 'bind with a plan_id that is not in the catalog' },
  { kind: 'bind-conflict', status: 409, what: 'bind again, with other parameters, to an existing binding id' },
  { kind: 'unbind-gone', status: 410, what: 'unbind of a binding that was just unbound' },
  { kind: 'deprovision-gone', status: 410, what: 'deprovision of an instance that is gone (never created, or just deprovisioned)' },
  { kind: 'bind-missing-instance', status: 404, what: 'bind to an instance that does not exist' },
  {
    kind: 'provision-foreign-vhost',
    status: 409,
    what: "provision of an id whose vhost exists in RabbitMQ but is not warren's (RabbitMQ answered GET vhost first)",
  },
  {
    kind: 'bind-rabbitmq-400',
    status: 502,
    what: "bind to an instance whose vhost was deleted behind warren's back: RabbitMQ answers 400 to PUT permissions, warren rolls back and answers 502",
  },
];

export interface LeakVerdict {
  scope: string;
  ok: boolean;
  elapsedMs: number;
  samples: number;
  fdGrowth: number;
  allowedFdGrowth: number;
  counts: Record<LeakClass, number>;
  groups: Array<{ leakClass: LeakClass; peer: string; direction: string; count: number; rxBytes: number; text: string }>;
  message: string | null;
}

export interface SoakResult {
  ok: boolean;
  failures: string[];
  options: Omit<SoakOptions, 'log' | 'onStarted'>;
  entry: string;
  prefix: string;
  pid: number | null;
  limits: { soft: number | 'unlimited'; hard: number | 'unlimited'; line: string } | null;
  startedAt: string;
  durationMs: number;
  phases: Array<{ name: Phase | 'stop'; startMs: number; endMs: number }>;
  stoppedEarly: string | null;
  cycles: { warmup: number; run: number; provisionCycles: number };
  runMs: number;
  requests: { run: number; total: number };
  throughput: { cyclesPerSec: number; requestsPerSec: number };
  ops: Record<string, { count: number; p50: number; p99: number; max: number }>;
  expected: Record<string, { status: number; count: number; wrong: number }>;
  unexpected: { count: number; examples: string[] };
  /** 502 answers caused by RabbitMQ's 500 on DELETE /api/connections/username/{user} (see retryKnown500). */
  knownIssue: { count: number; retried: number; examples: string[] };
  amqp: { opened: number; killed: number; survived: number; connectFailed: number; skipped: number; maxLive: number; slowestCloseMs: number };
  fds: {
    idle: number | null;
    baseline: number | null;
    min: number | null;
    max: number | null;
    final: number | null;
    soft: number | null;
    allowedGrowth: number;
    peakBound: number | null;
  };
  socketsAtEnd: SocketSummary | null;
  rss: { idleKb?: number | null; baselineKb: number | null; peakKb: number | null; endKb: number | null; boundMb: number };
  leaks: LeakVerdict[];
  leakClassesFound: LeakClass[];
  maxRollingLeaks: Record<LeakClass, number>;
  warrenLog: { warnings: number; errors: number; examples: string[] };
  leftovers: { users: string[]; vhosts: string[] };
  warrenExit: number | null;
  samples: Sample[];
}

// ---------------------------------------------------------------------------------------------
// The run

const PROVISION_BODY = { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID, organization_guid: 'soak-org', space_guid: 'soak-space' };
const BIND_BODY = { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID };
const IDS = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${STANDARD_PLAN_ID}`;
const instancePath = (id: string) => `/v2/service_instances/${id}`;
const bindingPath = (instance: string, binding: string) => `/v2/service_instances/${instance}/service_bindings/${binding}`;
const MAX_SAMPLES = 50_000;
const KNOWN_500 = /DELETE \/api\/connections\/username\/\S+ on \S+ answered 500/;

class Stop extends Error {}

export async function runSoak(partial: Partial<SoakOptions> = {}): Promise<SoakResult> {
  const o: SoakOptions = { ...DEFAULT_OPTIONS, ...partial };
  if (!(o.cycles >= 0 && o.concurrency >= 1 && o.instances >= 1 && o.fdLimit >= 32)) throw new RangeError('soak: invalid options');
  const t0 = Date.now();
  const since = () => Date.now() - t0;
  const prefix = `soak-${randomBytes(3).toString('hex')}-`;
  const mgmtUrl = new URL(o.managementUrl);
  const mgmtPort = Number(mgmtUrl.port || (mgmtUrl.protocol === 'https:' ? 443 : 80));
  const admin = new RabbitAdmin(o.managementUrl, o.adminUser, o.adminPassword);
  const failures: string[] = [];
  const fail = (msg: string) => {
    failures.push(msg);
  };
  const { log: _log, onStarted: _onStarted, ...publicOptions } = o;

  const result: SoakResult = {
    ok: false,
    failures,
    options: publicOptions,
    entry: o.entry ?? 'src/cli/warren.ts serve',
    prefix,
    pid: null,
    limits: null,
    startedAt: new Date(t0).toISOString(),
    durationMs: 0,
    phases: [],
    stoppedEarly: null,
    cycles: { warmup: 0, run: 0, provisionCycles: 0 },
    runMs: 0,
    requests: { run: 0, total: 0 },
    throughput: { cyclesPerSec: 0, requestsPerSec: 0 },
    ops: {},
    expected: Object.fromEntries(FAILURE_KINDS.map((k) => [k.kind, { status: k.status, count: 0, wrong: 0 }])),
    unexpected: { count: 0, examples: [] },
    knownIssue: { count: 0, retried: 0, examples: [] },
    amqp: { opened: 0, killed: 0, survived: 0, connectFailed: 0, skipped: 0, maxLive: 0, slowestCloseMs: 0 },
    fds: { idle: null, baseline: null, min: null, max: null, final: null, soft: null, allowedGrowth: o.poolConnections, peakBound: null },
    socketsAtEnd: null,
    rss: { idleKb: null, baselineKb: null, peakKb: null, endKb: null, boundMb: o.rssBoundMb },
    leaks: [],
    leakClassesFound: [],
    maxRollingLeaks: { 'close-wait': 0, 'stuck-rx': 0, ghost: 0 },
    warrenLog: { warnings: 0, errors: 0, examples: [] },
    leftovers: { users: [], vhosts: [] },
    warrenExit: null,
    samples: [],
  };

  // --- phases, state shared by the workers ---
  let phase = 'setup' as Phase; // `as`: workers and handlers change it behind the compiler's back
  let phaseStart = 0;
  const enterPhase = (next: Phase) => {
    result.phases.push({ name: phase, startMs: phaseStart, endMs: since() });
    phase = next;
    phaseStart = since();
  };
  let stopReason: string | null = null;
  const stop = (why: string) => {
    if (stopReason === null) {
      stopReason = why;
      result.stoppedEarly = why;
    }
  };

  let warren: WarrenProcess | undefined;
  let warrenGone = false;
  let client: OsbClient | undefined;
  let configDir: string | undefined;
  const liveBindings = new Map<string, string>(); // binding id -> instance id, until unbound or its instance deprovisioned
  const liveInstances = new Set<string>(); // until deprovisioned (200 or 410)
  const openConnections = new Set<LiveConnection>();
  const survivedBy: Record<string, number> = {};
  const lat = new Map<string, Latencies>();
  let liveAmqp = 0;
  let idCounter = 0;
  let failureCounter = 0;
  let requestCount = 0;
  let runRequestsAtStart = 0;
  const nextId = (tag: string) => `${prefix}${tag}${(idCounter++).toString(36)}`;
  const foreignVhost = `${prefix}foreign`;
  const doomedInstance = `${prefix}doomed`;
  const baseInstances = Array.from({ length: o.instances }, (_, i) => `${prefix}i${i}`);

  // --- sampling ---
  const samples = result.samples;
  const window: Snapshot[] = [];
  let logScanned = 0;
  const sampleOnce = () => {
    if (!warren || warrenGone) return;
    let snap: Snapshot;
    try {
      snap = takeSnapshot(warren.pid);
    } catch {
      return; // gone: the exit handler reports it
    }
    if (!snap.fds) {
      fail(`cannot read /proc/${warren.pid}/fd (permission denied): the soak must run as the same user as warren`);
      stop('fd access denied');
      return;
    }

    window.push(snap);
    if (window.length > 4) window.shift();
    const states: Record<string, number> = {};
    const mgmt: Record<string, number> = {};
    const inbound: Record<string, number> = {};
    let unread = 0;
    for (const s of snap.sockets) {
      states[s.state] = (states[s.state] ?? 0) + 1;
      if (s.direction === 'out' && s.remotePort === mgmtPort) mgmt[s.state] = (mgmt[s.state] ?? 0) + 1;
      if (s.direction === 'in') inbound[s.state] = (inbound[s.state] ?? 0) + 1;
      if (s.state === 'CLOSE_WAIT' || (s.state === 'ESTABLISHED' && s.rxQueue > 0)) unread++;
    }
    const judged = window.length >= 2 ? findLeaks(window) : undefined;
    const rolling = judged?.counts ?? { 'close-wait': 0, 'stuck-rx': 0, ghost: 0 };
    const rollingGroups = judged?.groups.length ? judged.groups.map((g) => `${g.leakClass} ${g.count} ${g.direction} ${g.peer} rx ${g.rxBytes} inode ${g.inodes.join(',')}`) : undefined;
    if (phase === 'run' || phase === 'warm-up') {
      for (const k of Object.keys(rolling) as LeakClass[]) result.maxRollingLeaks[k] = Math.max(result.maxRollingLeaks[k], rolling[k]);
    }
    if (samples.length < MAX_SAMPLES) {
      samples.push({ t: since(), phase, fds: { ...snap.fds }, soft: typeof snap.limits?.soft === 'number' ? snap.limits.soft : null, states, mgmt, inbound, unread, rolling, ...(rollingGroups ? { rollingGroups } : {}), rssKb: readRssKb(warren.pid) });
    }
    // warren's own log: count warnings and errors, keep the memory bounded.
    const logs = warren.logs;
    for (; logScanned < logs.length; logScanned++) {
      const line = logs[logScanned]!;
      const m = /"level":(\d+)/.exec(line);
      const level = m ? Number(m[1]) : 0;
      if (level >= 50) result.warrenLog.errors++;
      else if (level >= 40) result.warrenLog.warnings++;
      if (level >= 40 && result.warrenLog.examples.length < 10) result.warrenLog.examples.push(line.slice(0, 400));
    }
    if (logs.length > 2000) {
      logs.splice(0, logs.length - 200);
      logScanned = logs.length;
    }
  };
  let sampler: NodeJS.Timeout | undefined;
  let lastProgress = 0;
  const progress = () => {
    const now = since();
    if (now - lastProgress < o.progressEveryMs) return;
    lastProgress = now;
    const s = samples.at(-1);
    const done = phase === 'run' ? result.cycles.run : result.cycles.warmup;
    const target = phase === 'run' ? o.cycles : o.warmupCycles;
    o.log(
      `[soak ${fmtDuration(now)}] ${phase}${phase === 'run' || phase === 'warm-up' ? ` ${done}/${target} cycles` : ''}` +
        (s ? `, fds ${s.fds.total}/${s.soft ?? '?'}, sockets ${Object.entries(s.states).map(([k, v]) => `${k} ${v}`).join(' ')}, rss ${s.rssKb ? mb(s.rssKb) : '?'} MB` : '') +
        (result.unexpected.count ? `, UNEXPECTED ${result.unexpected.count}` : ''),
    );
  };

  // --- OSBAPI calls, timed and checked ---
  const latency = (op: string) => {
    let l = lat.get(op);
    if (!l) lat.set(op, (l = new Latencies()));
    return l;
  };
  const unexpected = (what: string) => {
    result.unexpected.count++;
    if (result.unexpected.examples.length < 20) result.unexpected.examples.push(what);
    if (result.unexpected.count >= o.maxUnexpected) stop(`${result.unexpected.count} unexpected answers`);
  };
  async function call(op: string, method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<OsbAnswer | null> {
    if (stopReason && phase !== 'cleanup') throw new Stop();
    const c = client!;
    const started = performance.now();
    try {
      const r = await c.call(method, path, body === undefined ? {} : { body });
      requestCount++;
      latency(op).add(performance.now() - started);
      return r;
    } catch (err) {
      if (stopReason && phase !== 'cleanup') throw new Stop();
      unexpected(`${op}: ${method} ${path}: request failed: ${(err as Error).message}`);
      return null;
    }
  }
  /** DELETE of a binding or instance; see retryKnown500 for the one answer that may be repeated. */
  async function remove(op: string, path: string): Promise<OsbAnswer | null> {
    let r = await call(op, 'DELETE', path);
    for (let tries = 0; r && r.status === 502 && KNOWN_500.test(r.text); tries++) {
      result.knownIssue.count++;
      if (result.knownIssue.examples.length < 5) result.knownIssue.examples.push(`${op} ${path.split('?')[0]}: ${r.text.slice(0, 300)}`);
      if (!o.retryKnown500 || tries >= 3) break;
      result.knownIssue.retried++;
      await sleep(20);
      r = await call(op, 'DELETE', path);
    }
    return r;
  }
  /** Checks an answer's status; on a mismatch records it (with the body) and returns false. */
  function expectStatus(op: string, r: OsbAnswer | null, status: number): boolean {
    if (!r) return false;
    if (r.status === status) return true;
    unexpected(`${op}: expected ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
    return false;
  }
  function expectFailure(kind: string, r: OsbAnswer | null): void {
    const e = result.expected[kind]!;
    if (!r) return;
    // OSBAPI: 410 answers are {}, every other error is {"description": ...} (error code optional).
    const shapeOk = r.status === 410 ? r.text.trim() === '{}' : typeof r.body?.description === 'string';
    if (r.status === e.status && shapeOk) {
      e.count++;
      return;
    }
    e.wrong++;
    unexpected(`${kind}: expected ${e.status}${r.status === e.status ? ' with an OSBAPI error body' : ''}, got ${r.status}: ${r.text.slice(0, 300)}`);
  }

  async function connectAmqp(credentials: unknown): Promise<LiveConnection | undefined> {
    const uri = (credentials as { uri?: unknown } | undefined)?.uri;
    if (typeof uri !== 'string') {
      unexpected(`bind: credentials have no uri: ${JSON.stringify(credentials)?.slice(0, 200)}`);
      return undefined;
    }
    if (liveAmqp >= o.maxAmqpConnections) {
      result.amqp.skipped++;
      return undefined;
    }
    liveAmqp++;
    result.amqp.maxLive = Math.max(result.amqp.maxLive, liveAmqp);
    try {
      const live = await openAmqp(uri, 10_000);
      openConnections.add(live);
      result.amqp.opened++;
      return live;
    } catch (err) {
      liveAmqp--;
      result.amqp.connectFailed++;
      firstConnectError ??= (err as Error).message;
      return undefined;
    }
  }
  /** After the OSBAPI answer that must have killed it: the connection's 'close' must fire. */
  async function mustBeClosed(live: LiveConnection, answeredAt: number, by: string): Promise<void> {
    const closed = await within(live.closed, o.amqpCloseTimeoutMs);
    openConnections.delete(live);
    liveAmqp--;
    if (closed) {
      result.amqp.killed++;
      result.amqp.slowestCloseMs = Math.max(result.amqp.slowestCloseMs, Date.now() - answeredAt);
    } else {
      result.amqp.survived++;
      survivedBy[by] = (survivedBy[by] ?? 0) + 1;
      await live.conn.close().catch(() => undefined);
    }
  }

  // --- the operations ---
  async function bindUnbind(instance: string, withAmqp: boolean): Promise<void> {
    const binding = nextId('b');
    liveBindings.set(binding, instance);
    const r = await call('bind', 'PUT', bindingPath(instance, binding), BIND_BODY);
    if (!expectStatus('bind', r, 201)) return;
    const live = withAmqp ? await connectAmqp(r!.body?.credentials) : undefined;
    const u = await remove('unbind', `${bindingPath(instance, binding)}?${IDS}`);
    const answeredAt = Date.now();
    if (expectStatus('unbind', u, 200)) liveBindings.delete(binding);
    if (live) await mustBeClosed(live, answeredAt, 'unbind');
  }

  async function provisionCycle(): Promise<void> {
    const instance = nextId('p');
    liveInstances.add(instance);
    const p = await call('provision', 'PUT', instancePath(instance), PROVISION_BODY);
    if (!expectStatus('provision', p, 201)) return;
    // One binding the platform unbinds first, one (with a live connection) left for deprovision.
    const kept = nextId('b');
    liveBindings.set(kept, instance);
    const b1 = await call('bind', 'PUT', bindingPath(instance, kept), BIND_BODY);
    const live = expectStatus('bind', b1, 201) ? await connectAmqp(b1!.body?.credentials) : undefined;
    const other = nextId('b');
    liveBindings.set(other, instance);
    if (expectStatus('bind', await call('bind', 'PUT', bindingPath(instance, other), BIND_BODY), 201)) {
      if (expectStatus('unbind', await remove('unbind', `${bindingPath(instance, other)}?${IDS}`), 200)) liveBindings.delete(other);
    }
    const d = await remove('deprovision', `${instancePath(instance)}?${IDS}`);
    const answeredAt = Date.now();
    if (expectStatus('deprovision', d, 200)) {
      liveInstances.delete(instance);
      for (const [b, i] of liveBindings) if (i === instance) liveBindings.delete(b);
    }
    if (live) await mustBeClosed(live, answeredAt, 'deprovision');
    expectFailure('deprovision-gone', await call('deprovision-gone', 'DELETE', `${instancePath(instance)}?${IDS}`));
    result.cycles.provisionCycles++;
  }

  async function expectedFailure(kind: string, instance: string): Promise<void> {
    switch (kind) {
      case 'provision-unknown-plan': {
        const id = nextId('x');
        liveInstances.add(id); // in case warren wrongly creates it
        const r = await call(kind, 'PUT', instancePath(id), { ...PROVISION_BODY, plan_id: `no-such-plan-${randomBytes(4).toString('hex')}` });
        expectFailure(kind, r);
        if (r?.status === 400) liveInstances.delete(id);
        return;
      }
      case 'bind-unknown-plan': {
        const binding = nextId('x');
        const r = await call(kind, 'PUT', bindingPath(instance, binding), { ...BIND_BODY, plan_id: `no-such-plan-${randomBytes(4).toString('hex')}` });
        expectFailure(kind, r);
        if (r && r.status !== 400) liveBindings.set(binding, instance);
        return;
      }
      case 'bind-conflict': {
        const binding = nextId('b');
        liveBindings.set(binding, instance);
        if (!expectStatus('bind', await call('bind', 'PUT', bindingPath(instance, binding), { ...BIND_BODY, parameters: { soak: 1 } }), 201)) return;
        expectFailure(kind, await call(kind, 'PUT', bindingPath(instance, binding), { ...BIND_BODY, parameters: { soak: 2 } }));
        if (expectStatus('unbind', await remove('unbind', `${bindingPath(instance, binding)}?${IDS}`), 200)) liveBindings.delete(binding);
        return;
      }
      case 'unbind-gone': {
        const binding = nextId('b');
        liveBindings.set(binding, instance);
        if (!expectStatus('bind', await call('bind', 'PUT', bindingPath(instance, binding), BIND_BODY), 201)) return;
        if (expectStatus('unbind', await remove('unbind', `${bindingPath(instance, binding)}?${IDS}`), 200)) liveBindings.delete(binding);
        expectFailure(kind, await call(kind, 'DELETE', `${bindingPath(instance, binding)}?${IDS}`));
        return;
      }
      case 'deprovision-gone':
        expectFailure(kind, await call(kind, 'DELETE', `${instancePath(nextId('x'))}?${IDS}`));
        return;
      case 'bind-missing-instance': {
        const missing = nextId('x');
        const binding = nextId('x');
        const r = await call(kind, 'PUT', bindingPath(missing, binding), BIND_BODY);
        expectFailure(kind, r);
        if (r && r.status !== 404) liveBindings.set(binding, missing);
        return;
      }
      case 'provision-foreign-vhost': {
        const r = await call(kind, 'PUT', instancePath(foreignVhost), PROVISION_BODY);
        expectFailure(kind, r);
        return;
      }
      case 'bind-rabbitmq-400': {
        const binding = nextId('b');
        const r = await call(kind, 'PUT', bindingPath(doomedInstance, binding), BIND_BODY);
        expectFailure(kind, r);
        if (r && r.status !== 502) liveBindings.set(binding, doomedInstance);
        return;
      }
      default:
        throw new Error(`unknown failure kind ${kind}`);
    }
  }

  async function runCycles(count: number, counter: 'warmup' | 'run'): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (;;) {
        if (stopReason) return;
        if (Date.now() > deadlineAt) {
          stop(`hard deadline of ${o.deadlineMs} ms reached`);
          return;
        }
        const i = next++;
        if (i >= count) return;
        const instance = baseInstances[i % baseInstances.length]!;
        try {
          await bindUnbind(instance, o.amqpEvery > 0 && i % o.amqpEvery === o.amqpEvery - 1);
          result.cycles[counter]++;
          if (o.failEvery > 0 && i % o.failEvery === Math.floor(o.failEvery / 3)) {
            const kind = FAILURE_KINDS[failureCounter++ % FAILURE_KINDS.length]!.kind;
            await expectedFailure(kind, instance);
          }
          if (o.provisionEvery > 0 && i % o.provisionEvery === Math.floor(o.provisionEvery / 2)) await provisionCycle();
        } catch (err) {
          if (err instanceof Stop) return;
          unexpected(`cycle ${i}: ${(err as Error).stack ?? String(err)}`);
        }
        progress();
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  }

  /** Unbinds and deprovisions, through warren, whatever the soak still holds. Bounded. */
  async function cleanupThroughWarren(budgetMs: number): Promise<void> {
    if (!warren || warrenGone || (liveBindings.size === 0 && liveInstances.size === 0)) return;
    const until = Date.now() + budgetMs;
    client ??= new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 8 });
    const c = client;
    const watchdog = setTimeout(() => void c.agent.destroy().catch(() => undefined), budgetMs);
    try {
      const bindings = [...liveBindings];
      for (let i = 0; i < bindings.length && Date.now() < until; i += 8) {
        await Promise.all(
          bindings.slice(i, i + 8).map(async ([b, inst]) => {
            const r = await remove('unbind', `${bindingPath(inst, b)}?${IDS}`);
            if (r && (r.status === 200 || r.status === 410)) liveBindings.delete(b);
            else if (r && r.status === 404) liveBindings.delete(b); // the instance itself is unknown
          }),
        );
      }
      for (const inst of [...liveInstances]) {
        if (Date.now() >= until) break;
        const r = await remove('deprovision', `${instancePath(inst)}?${IDS}`);
        if (r && (r.status === 200 || r.status === 410)) liveInstances.delete(inst);
        else if (r) unexpected(`cleanup: deprovision ${inst}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  const deadlineAt = t0 + o.deadlineMs;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let firstConnectError: string | undefined;
  /** The snapshot settling compares with: after warm-up, or the idle one if warm-up never ended. */
  let baseline: Snapshot | undefined;
  let baselineKind = 'post-warm-up';
  try {
    // ---- setup ----
    const overview = await admin.call('GET', 'overview');
    if (overview.status !== 200) throw new Error(`RabbitMQ management API at ${o.managementUrl} answered ${overview.status}`);
    // A vhost warren did not create, for the conflict that needs RabbitMQ's answer.
    const fv = await admin.call('PUT', `vhosts/${encodeURIComponent(foreignVhost)}`, { description: 'created by the soak, not by warren' });
    if (fv.status !== 201 && fv.status !== 204) throw new Error(`creating vhost ${foreignVhost}: ${fv.status} ${fv.text}`);

    configDir = mkdtempSync(join(tmpdir(), 'warren-soak-'));
    const configFile = join(configDir, 'warren.yml');
    writeFileSync(configFile, `# written by the soak\nrabbitmq:\n  pool:\n    connections: ${o.poolConnections}\n`);
    warren = await startWarrenProcess({
      fdLimit: o.fdLimit,
      ...(o.entry ? { entry: o.entry } : {}),
      env: {
        WARREN_CONFIG: configFile,
        WARREN_MANAGEMENT_URLS: `${mgmtUrl.protocol}//${encodeURIComponent(o.adminUser)}:${encodeURIComponent(o.adminPassword)}@${mgmtUrl.host}${mgmtUrl.pathname.replace(/\/+$/, '')}`,
        ...o.env,
      },
    });
    const w = warren;
    result.pid = w.pid;
    w.child.once('exit', (code, signal) => {
      warrenGone = true;
      if (!stopping) {
        fail(`warren (pid ${w.pid}) exited by itself during the ${phase} phase (code ${code}, signal ${signal})`);
        stop('warren exited');
      }
    });
    result.limits = readOpenFilesLimit(w.pid);
    if (result.limits.soft !== o.fdLimit) fail(`warren's soft fd limit is ${result.limits.soft}, not ${o.fdLimit}: ${result.limits.line}`);
    await o.onStarted?.({ pid: w.pid, url: w.url });
    const idle = takeSnapshot(w.pid);
    baseline = idle;
    baselineKind = 'idle (warm-up did not finish)';
    result.fds.idle = idle.fds?.total ?? null;
    result.rss.idleKb = readRssKb(w.pid);
    if (idle.fds) result.fds.peakBound = idle.fds.total + o.poolConnections + o.concurrency + o.fdSlack;
    sampleOnce();
    sampler = setInterval(() => {
      sampleOnce();
      progress();
    }, o.sampleIntervalMs);
    deadlineTimer = setTimeout(() => {
      stop(`hard deadline of ${o.deadlineMs} ms reached`);
      const c = client;
      client = undefined;
      void c?.agent.destroy().catch(() => undefined); // aborts requests in flight
    }, Math.max(0, deadlineAt - Date.now()));

    client = new OsbClient({ url: w.url, username: w.username, password: w.password, connections: o.concurrency });
    for (const id of [...baseInstances, doomedInstance]) {
      liveInstances.add(id);
      if (!expectStatus('provision', await call('provision', 'PUT', instancePath(id), PROVISION_BODY), 201)) {
        throw new Error(`could not provision ${id}: ${result.unexpected.examples.at(-1)}`);
      }
    }
    // The doomed instance's vhost goes away behind warren's back: binds to it meet RabbitMQ 400s.
    const dv = await admin.call('DELETE', `vhosts/${encodeURIComponent(doomedInstance)}`);
    if (dv.status !== 204) throw new Error(`deleting vhost ${doomedInstance}: ${dv.status} ${dv.text}`);

    // ---- warm-up, then a quiet baseline ----
    enterPhase('warm-up');
    await runCycles(o.warmupCycles, 'warmup');
    if (stopReason) throw new Stop();
    enterPhase('quiet');
    await client?.close(); // our keep-alive sockets go, so the baseline holds no OSBAPI connections
    client = undefined;
    for (let i = 0; i < 50; i++) {
      const s = takeSnapshot(w.pid);
      if (!s.sockets.some((x) => x.direction === 'in')) break;
      await sleep(100);
    }
    baseline = takeSnapshot(w.pid);
    baselineKind = 'post-warm-up';
    result.fds.baseline = baseline.fds?.total ?? null;
    result.rss.baselineKb = readRssKb(w.pid);
    sampleOnce();

    // ---- the measured run ----
    client = new OsbClient({ url: w.url, username: w.username, password: w.password, connections: o.concurrency });
    enterPhase('run');
    const runStart = performance.now();
    runRequestsAtStart = requestCount;
    try {
      await runCycles(o.cycles, 'run');
    } finally {
      result.runMs = performance.now() - runStart;
      result.requests.run = requestCount - runRequestsAtStart;
    }
    if (result.cycles.run < o.cycles && !stopReason) fail(`only ${result.cycles.run} of ${o.cycles} cycles ran`);
  } catch (err) {
    if (!(err instanceof Stop)) {
      fail(`soak aborted: ${(err as Error).stack ?? String(err)}`);
      stop(`aborted in the ${phase} phase`);
    }
  }

  try {
    clearTimeout(deadlineTimer);
    // ---- cleanup through warren (always, bounded), then settle and judge ----
    enterPhase('cleanup');
    if (stopReason) {
      const c = client;
      client = undefined;
      await c?.agent.destroy().catch(() => undefined); // an aborted run may have requests hanging
    }
    try {
      await cleanupThroughWarren(60_000);
    } catch (err) {
      fail(`cleanup through warren failed: ${(err as Error).message}`);
    }
    const dfv = await admin.call('DELETE', `vhosts/${encodeURIComponent(foreignVhost)}`);
    if (dfv.status !== 204 && dfv.status !== 404) fail(`deleting vhost ${foreignVhost}: ${dfv.status} ${dfv.text.slice(0, 200)}`);
    await client?.close().catch(() => undefined);
    client = undefined;

    if (warren && baseline && !warrenGone) {
      enterPhase('settle');
      const verdicts: Array<[string, SettleResult]> = [];
      const settleOptions = { allowedFdGrowth: o.poolConnections, deadlineMs: o.settleMs, includePreexisting: true };
      verdicts.push([`peer ${mgmtPort} (management)`, await settle(baseline, { ...settleOptions, peer: mgmtPort })]);
      verdicts.push(['whole process', await settle(baseline, settleOptions)]);
      for (const [scope, r] of verdicts) {
        const v: LeakVerdict = {
          scope,
          ok: r.ok,
          elapsedMs: r.elapsedMs,
          samples: r.samples,
          fdGrowth: r.fdGrowth,
          allowedFdGrowth: r.allowedFdGrowth,
          counts: r.report.counts,
          groups: r.report.groups.map((g) => ({ leakClass: g.leakClass, peer: g.peer, direction: g.direction, count: g.count, rxBytes: g.rxBytes, text: describeLeakGroup(g) })),
          message: r.ok ? null : describeSettleFailure(r),
        };
        result.leaks.push(v);
        for (const g of v.groups) {
          if (!result.leakClassesFound.includes(g.leakClass)) result.leakClassesFound.push(g.leakClass);
          fail(`leak (${scope}): ${g.text}`);
        }
        if (r.fdGrowth > r.allowedFdGrowth) {
          fail(`fd growth +${r.fdGrowth} over the ${baselineKind} baseline (${baseline.fds?.total}) after settling (${scope}), allowed +${r.allowedFdGrowth} (the management pool)`);
        }
      }
      const last = verdicts[1]![1].last;
      result.socketsAtEnd = summarizeSockets(last);
      result.fds.final = last.fds?.total ?? null;
      sampleOnce();
    }
  } catch (err) {
    fail(`soak aborted while cleaning up or settling: ${(err as Error).stack ?? String(err)}`);
  } finally {
    if (stopReason) fail(`stopped early: ${stopReason}`);
    if (sampler) clearInterval(sampler);
    for (const live of openConnections) {
      if (!live.isClosed()) {
        result.amqp.survived++;
        survivedBy['the end of the soak'] = (survivedBy['the end of the soak'] ?? 0) + 1;
      }
      await live.conn.close().catch(() => undefined);
    }
    for (const [by, n] of Object.entries(survivedBy)) {
      fail(`${n} AMQP connection(s) survived ${by}: no 'close' within ${o.amqpCloseTimeoutMs} ms after the answer`);
    }
    if (result.amqp.connectFailed > 0) {
      fail(`${result.amqp.connectFailed} AMQP connect(s) with a fresh binding's credentials failed, e.g. ${firstConnectError}`);
    }
    result.phases.push({ name: phase, startMs: phaseStart, endMs: since() });
    // Anything the soak created that RabbitMQ still holds is a failure; remove it anyway.
    try {
      await admin.call('DELETE', `vhosts/${encodeURIComponent(foreignVhost)}`);
      const users = await admin.namesWithPrefix('users', prefix);
      const vhosts = await admin.namesWithPrefix('vhosts', prefix);
      result.leftovers = { users, vhosts };
      if (users.length || vhosts.length) {
        fail(`left in RabbitMQ: ${users.length} user(s) ${users.slice(0, 5).join(', ')}; ${vhosts.length} vhost(s) ${vhosts.slice(0, 5).join(', ')}`);
      }
    } catch (err) {
      fail(`could not check RabbitMQ for leftovers: ${(err as Error).message}`);
    }
    const stopAt = since();
    if (warren) {
      stopping = true;
      const exitedBefore = warrenGone;
      result.warrenExit = await warren.stop();
      if (!exitedBefore && result.warrenExit !== 0) fail(`warren exited with ${result.warrenExit} on SIGTERM`);
    }
    result.phases.push({ name: 'stop', startMs: stopAt, endMs: since() });
    await admin.purge(prefix).catch(() => undefined);
    await admin.close().catch(() => undefined);
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  }

  // ---- verdicts from the series ----
  for (const [op, l] of lat) result.ops[op] = l.summary();
  result.requests.total = requestCount;
  const runSec = result.runMs / 1000;
  result.throughput = {
    cyclesPerSec: runSec > 0 ? result.cycles.run / runSec : 0,
    requestsPerSec: runSec > 0 ? result.requests.run / runSec : 0,
  };
  const fdTotals = samples.map((s) => s.fds.total);
  if (fdTotals.length) {
    result.fds.min = Math.min(...fdTotals);
    result.fds.max = Math.max(...fdTotals);
    result.fds.final ??= fdTotals.at(-1)!;
    result.fds.soft = samples.at(-1)!.soft;
  }
  if (result.fds.peakBound !== null && result.fds.max !== null && result.fds.max > result.fds.peakBound) {
    fail(
      `peak fds ${result.fds.max} above the bound ${result.fds.peakBound} ` +
        `(idle ${result.fds.idle} + pool ${o.poolConnections} + OSBAPI connections ${o.concurrency} + slack ${o.fdSlack})`,
    );
  }
  const afterWarmup = samples.filter((s) => s.phase === 'run' || s.phase === 'cleanup' || s.phase === 'settle');
  const rss = afterWarmup.map((s) => s.rssKb).filter((v): v is number => v !== null);
  if (rss.length) {
    result.rss.peakKb = Math.max(...rss);
    result.rss.endKb = rss.at(-1)!;
  }
  if (result.rss.baselineKb !== null && result.rss.peakKb !== null && result.rss.peakKb - result.rss.baselineKb > o.rssBoundMb * 1024) {
    fail(`RSS grew by ${mb(result.rss.peakKb - result.rss.baselineKb)} MB over the post-warm-up ${mb(result.rss.baselineKb)} MB, bound ${o.rssBoundMb} MB`);
  }
  if (result.unexpected.count > 0) fail(`${result.unexpected.count} unexpected answer(s), e.g. ${result.unexpected.examples[0]}`);
  for (const k of FAILURE_KINDS) {
    if (o.failEvery > 0 && o.cycles >= o.failEvery * FAILURE_KINDS.length && result.expected[k.kind]!.count === 0 && !result.stoppedEarly) {
      fail(`expected failure ${k.kind} never happened`);
    }
  }
  result.durationMs = since();
  result.ok = failures.length === 0;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Output

function states(rec: Partial<Record<string, number>>): string {
  const parts = Object.entries(rec).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'none';
}

export function formatTable(r: SoakResult): string {
  const o = r.options;
  const lines: string[] = [];
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number | null) => (v === null ? '?' : String(v));
  lines.push(
    `warren soak: ${r.ok ? 'PASS' : 'FAIL'}  ${r.cycles.run} bind/unbind cycles (+${r.cycles.warmup} warm-up) and ${r.cycles.provisionCycles} provision/deprovision cycles` +
      ` at concurrency ${o.concurrency}, ulimit -n ${o.fdLimit}, pool ${o.poolConnections}, ${fmtDuration(r.durationMs)}`,
  );
  lines.push(`entry: ${r.entry}   pid ${r.pid ?? '?'}   ${(r.limits?.line ?? '').replace(/\s+/g, ' ')} (/proc/<pid>/limits)`);
  lines.push(
    `throughput     ${r.throughput.cyclesPerSec.toFixed(1)} cycles/s, ${r.throughput.requestsPerSec.toFixed(1)} OSBAPI requests/s` +
      ` (run phase ${(r.runMs / 1000).toFixed(1)} s, ${r.requests.run} requests)`,
  );
  lines.push('');
  lines.push(`${pad('operation', 26)}${'count'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`);
  const order = ['bind', 'unbind', 'provision', 'deprovision', ...FAILURE_KINDS.map((k) => k.kind)];
  for (const op of [...order, ...Object.keys(r.ops).filter((k) => !order.includes(k))]) {
    const s = r.ops[op];
    if (!s) continue;
    lines.push(`${pad(op, 26)}${String(s.count).padStart(8)}${fmtMs(s.p50).padStart(9)}${fmtMs(s.p99).padStart(9)}${fmtMs(s.max).padStart(9)}`);
  }
  lines.push('(latencies over the whole soak; each failure kind is timed on its failing request)');
  lines.push('');
  lines.push(
    `fds            min ${num(r.fds.min)}  max ${num(r.fds.max)}  final ${num(r.fds.final)}  of soft limit ${num(r.fds.soft)}` +
      `  (idle ${num(r.fds.idle)}, post-warm-up ${num(r.fds.baseline)}; final allowed +${r.fds.allowedGrowth}, peak bound ${num(r.fds.peakBound)})`,
  );
  if (r.socketsAtEnd) {
    lines.push(`sockets at end ${states(r.socketsAtEnd.byState)}`);
    for (const p of r.socketsAtEnd.byPeer) lines.push(`               ${p.direction === 'out' ? 'to' : p.direction === 'in' ? 'on' : 'listen'} ${p.peer}: ${states(p.states)}`);
  }
  const rb = r.rss.baselineKb;
  const idleKb = r.rss.idleKb ?? r.samples[0]?.rssKb ?? null;
  lines.push(
    `RSS            just started ${idleKb === null ? '?' : mb(idleKb)} MB, post-warm-up ${rb === null ? '?' : mb(rb)} MB, peak ${r.rss.peakKb === null ? '?' : mb(r.rss.peakKb)} MB, end ${r.rss.endKb === null ? '?' : mb(r.rss.endKb)} MB` +
      ` (bound: peak <= post-warm-up + ${r.rss.boundMb} MB${rb !== null && r.rss.peakKb !== null ? `; grew ${mb(r.rss.peakKb - rb)} MB` : ''})`,
  );
  const leakText = r.leaks.length === 0 ? 'not judged (the run did not reach settling)' : r.leakClassesFound.length === 0 ? 'none' : r.leakClassesFound.join(', ');
  lines.push(`leak classes   ${leakText}`);
  for (const v of r.leaks) {
    lines.push(
      `               ${v.scope}: ${v.ok ? 'clean' : 'LEAKS'} after ${v.elapsedMs} ms (${v.samples} samples), fd growth ${v.fdGrowth >= 0 ? '+' : ''}${v.fdGrowth} (allowed +${v.allowedFdGrowth})` +
        (v.groups.length ? `: ${v.groups.map((g) => g.text).join('; ')}` : ''),
    );
  }
  lines.push(`               during the run (rolling, informational): max close-wait ${r.maxRollingLeaks['close-wait']}, stuck-rx ${r.maxRollingLeaks['stuck-rx']}, ghost ${r.maxRollingLeaks.ghost}`);
  lines.push(
    `AMQP           ${r.amqp.opened} opened, ${r.amqp.killed} killed by unbind/deprovision (slowest 'close' ${r.amqp.slowestCloseMs} ms after the answer),` +
      ` ${r.amqp.survived} survived, ${r.amqp.connectFailed} connect failures, ${r.amqp.skipped} skipped, max ${r.amqp.maxLive} open at once`,
  );
  lines.push('expected failures');
  for (const k of FAILURE_KINDS) {
    const e = r.expected[k.kind]!;
    lines.push(`               ${pad(k.kind, 24)} ${k.status} x ${String(e.count).padStart(4)}${e.wrong ? `   WRONG ${e.wrong}` : ''}`);
  }
  lines.push(`unexpected     ${r.unexpected.count}${r.unexpected.examples.length ? `: ${r.unexpected.examples[0]}` : ''}`);
  if (r.knownIssue.count > 0) {
    lines.push(
      `known issue    ${r.knownIssue.count} unbind/deprovision answered 502: RabbitMQ answered 500 to DELETE /api/connections/username/{user} right after DELETE /api/users/{user}; ` +
        (r.options.retryKnown500 ? `repeated like a platform (${r.knownIssue.retried} repeats, --retry-known-500)` : 'counted as unexpected (strict)'),
    );
  }
  lines.push(`warren log     ${r.warrenLog.errors} error(s), ${r.warrenLog.warnings} warning(s)`);
  lines.push(`RabbitMQ left  ${r.leftovers.users.length + r.leftovers.vhosts.length === 0 ? 'nothing' : `${r.leftovers.users.length} users, ${r.leftovers.vhosts.length} vhosts`}`);
  lines.push(`warren exit    ${r.warrenExit ?? '?'} (SIGTERM)`);
  if (r.failures.length) {
    lines.push('');
    lines.push('FAILURES');
    for (const f of r.failures) lines.push(`  - ${f.split('\n')[0]}`);
  }
  return lines.join('\n');
}

const PHASE_LABELS: Record<string, string> = { setup: 'setup', 'warm-up': 'warm-up', quiet: '', run: 'bind/unbind run', cleanup: 'cleanup', settle: 'settle', stop: '' };

export function chartSpec(r: SoakResult): ChartSpec {
  const s = r.samples;
  const times = s.map((x) => x.t / 1000);
  const get = (f: (x: Sample) => number | null) => s.map(f);
  const bound = r.rss.baselineKb === null ? [] : [{ value: (r.rss.baselineKb + r.rss.boundMb * 1024) / 1024, label: `bound: post-warm-up + ${r.rss.boundMb} MB`, color: '#cf222e' }];
  const fdLines = [];
  if (r.fds.soft !== null) fdLines.push({ value: r.fds.soft, label: `soft limit (ulimit -n ${r.fds.soft})`, color: '#cf222e' });
  if (r.fds.baseline !== null) fdLines.push({ value: r.fds.baseline + r.fds.allowedGrowth, label: `post-warm-up + pool (${r.fds.baseline} + ${r.fds.allowedGrowth}): allowed after settling`, color: '#bf8700', dash: '3 3' });
  const other = (x: Sample) => Object.entries(x.states).filter(([k]) => k !== 'ESTABLISHED' && k !== 'CLOSE_WAIT' && k !== 'LISTEN').reduce((a, [, v]) => a + v, 0);
  return {
    title: `warren soak: ${r.ok ? 'PASS' : 'FAIL'} (${r.entry})`,
    subtitle:
      `${r.cycles.run} bind/unbind cycles + ${r.cycles.provisionCycles} provision cycles at concurrency ${r.options.concurrency}, ulimit -n ${r.options.fdLimit}, ` +
      `${r.throughput.cyclesPerSec.toFixed(0)} cycles/s; leak classes: ${r.leakClassesFound.length ? r.leakClassesFound.join(', ') : 'none'}; ${r.startedAt.slice(0, 19)}Z`,
    times,
    phases: r.phases.filter((p) => PHASE_LABELS[p.name]).map((p) => ({ name: PHASE_LABELS[p.name]!, start: p.startMs / 1000, end: p.endMs / 1000 })),
    panels: [
      {
        title: 'warren file descriptors by kind',
        unit: 'fds',
        lines: fdLines,
        series: [
          { name: 'total', color: '#24292f', values: get((x) => x.fds.total), width: 2.2 },
          { name: 'socket', color: '#0969da', values: get((x) => x.fds.socket) },
          { name: 'pipe', color: '#8250df', values: get((x) => x.fds.pipe) },
          { name: 'file', color: '#1a7f37', values: get((x) => x.fds.file) },
          { name: 'anon_inode', color: '#9a6700', values: get((x) => x.fds.anon_inode) },
        ],
      },
      {
        title: 'warren TCP sockets by state',
        unit: 'sockets',
        minMax: 10,
        series: [
          { name: 'ESTABLISHED to management', color: '#0969da', values: get((x) => x.mgmt.ESTABLISHED ?? 0), width: 2 },
          { name: 'ESTABLISHED OSBAPI (in)', color: '#1a7f37', values: get((x) => x.inbound.ESTABLISHED ?? 0) },
          { name: 'CLOSE_WAIT', color: '#cf222e', values: get((x) => x.states.CLOSE_WAIT ?? 0), width: 2.2 },
          { name: 'unread now (busy or leaked)', color: '#f4a261', values: get((x) => x.unread), width: 1 },
          { name: 'other states (FIN_WAIT, ...)', color: '#8c959f', values: get(other) },
          { name: 'unread for 1 s (leak class if it stays)', color: '#a40e26', values: get((x) => x.rolling['close-wait'] + x.rolling['stuck-rx'] + x.rolling.ghost), width: 2.2 },
        ],
      },
      {
        title: 'warren resident memory (VmRSS)',
        unit: 'MB',
        lines: bound,
        series: [{ name: 'RSS', color: '#6639ba', values: get((x) => (x.rssKb === null ? null : x.rssKb / 1024)), width: 2 }],
      },
    ],
  };
}

export function writeReports(r: SoakResult, files: { report?: string; svg?: string; json?: string }): void {
  const svg = () => renderChartSvg(chartSpec(r));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, text);
  };
  if (files.svg) write(files.svg, `<?xml version="1.0" encoding="UTF-8"?>\n${svg()}\n`);
  if (files.report) {
    write(
      files.report,
      renderHtml({
        title: `warren soak report, ${r.startedAt.slice(0, 19)}Z`,
        ok: r.ok,
        verdict: r.ok ? 'PASS: no leak class, fds and RSS within bounds, every answer as expected, nothing left in RabbitMQ' : `FAIL: ${r.failures[0]?.split('\n')[0] ?? ''}`,
        svg: svg(),
        table: formatTable(r),
        failures: r.failures,
        details: [
          { heading: 'Expected failures provoked', text: FAILURE_KINDS.map((k) => `${k.kind} (${k.status}): ${k.what}`).join('\n') },
          ...r.leaks.filter((v) => v.message).map((v) => ({ heading: `Leak guard (${v.scope})`, text: v.message! })),
          ...(r.warrenLog.examples.length ? [{ heading: "warren's warnings and errors (first 10)", text: r.warrenLog.examples.join('\n') }] : []),
          { heading: 'Options', text: JSON.stringify(r.options, null, 2) },
        ],
      }),
    );
  }
  if (files.json) write(files.json, JSON.stringify({ ...r, table: formatTable(r) }, null, 1));
}

// ---------------------------------------------------------------------------------------------
// CLI

const HELP = `npm run soak -- [options]

Starts warren as its own process under a low ulimit -n, runs bind/unbind cycles at high
concurrency plus provision/deprovision cycles (some with live AMQP connections, some failing on
purpose), samples the process with the leak guard, and fails on any leak class, fd growth
beyond the management pool, RSS growth beyond the bound, unexpected answers, surviving AMQP
connections or leftovers in RabbitMQ. Exit status: 0 pass, 1 fail, 2 usage error.

  --cycles N            measured bind/unbind cycles (default ${DEFAULT_OPTIONS.cycles})
  --warmup N            warm-up cycles before the baseline (default ${DEFAULT_OPTIONS.warmupCycles})
  --concurrency N       requests in flight (default ${DEFAULT_OPTIONS.concurrency})
  --fd-limit N          ulimit -n of warren (default ${DEFAULT_OPTIONS.fdLimit})
  --instances N         instances the cycles spread over (default ${DEFAULT_OPTIONS.instances})
  --pool N              rabbitmq.pool.connections for warren = allowed fd growth (default ${DEFAULT_OPTIONS.poolConnections})
  --amqp-every N        every Nth binding opens an AMQP connection (default ${DEFAULT_OPTIONS.amqpEvery}; 0 = never)
  --fail-every N        one expected failure per N cycles (default ${DEFAULT_OPTIONS.failEvery}; 0 = never)
  --provision-every N   one provision/deprovision cycle per N cycles (default ${DEFAULT_OPTIONS.provisionEvery}; 0 = never)
  --rss-bound-mb N      allowed RSS growth over the post-warm-up RSS (default ${DEFAULT_OPTIONS.rssBoundMb})
  --deadline S          hard deadline in seconds for setup, warm-up and cycles (default ${DEFAULT_OPTIONS.deadlineMs / 1000})
  --entry FILE          TypeScript entry instead of warren serve (e.g. test/soak/leaky-warren.ts)
  --env K=V             extra environment for warren (repeatable), e.g. WARREN_LEAKY_EVERY=10
  --report FILE         write a self-contained HTML report with SVG charts
  --svg FILE            write the main chart as a standalone SVG
  --json FILE           write the full result (with every sample) as JSON
  --retry-known-500     repeat an unbind/deprovision that answered 502 because RabbitMQ answered 500
                        to DELETE /api/connections/username (a known warren bug; see docs/soak.md)
                        instead of failing on it; the count is still reported
  --from-json FILE      run nothing: print the table of an earlier --json result and write its
                        --report/--svg again
  --quiet               no progress lines
  --help                this text
`;

const SOAK_OPTIONS = {
  cycles: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  'fd-limit': { type: 'string' },
  instances: { type: 'string' },
  pool: { type: 'string' },
  'amqp-every': { type: 'string' },
  'fail-every': { type: 'string' },
  'provision-every': { type: 'string' },
  'rss-bound-mb': { type: 'string' },
  deadline: { type: 'string' },
  entry: { type: 'string' },
  env: { type: 'string', multiple: true },
  report: { type: 'string' },
  svg: { type: 'string' },
  json: { type: 'string' },
  'from-json': { type: 'string' },
  quiet: { type: 'boolean' },
  'retry-known-500': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SOAK_OPTIONS; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: SOAK_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (v['from-json']) {
    // Re-render the table and pictures of an earlier run (no soak is run).
    const saved = JSON.parse(readFileSync(v['from-json'], 'utf8')) as SoakResult;
    process.stdout.write(formatTable(saved) + '\n');
    writeReports(saved, { report: v.report, svg: v.svg });
    return saved.ok ? 0 : 1;
  }
  const opts: Partial<SoakOptions> = {};
  const ints: Array<[keyof typeof v, keyof SoakOptions, number]> = [
    ['cycles', 'cycles', 1],
    ['warmup', 'warmupCycles', 1],
    ['concurrency', 'concurrency', 1],
    ['fd-limit', 'fdLimit', 1],
    ['instances', 'instances', 1],
    ['pool', 'poolConnections', 1],
    ['amqp-every', 'amqpEvery', 1],
    ['fail-every', 'failEvery', 1],
    ['provision-every', 'provisionEvery', 1],
    ['rss-bound-mb', 'rssBoundMb', 1],
    ['deadline', 'deadlineMs', 1000],
  ];
  for (const [flag, key, scale] of ints) {
    const raw = v[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n) || n < 0) {
      process.stderr.write(`soak: --${flag} needs a whole number >= 0, got ${String(raw)}\n`);
      return 2;
    }
    (opts as Record<string, number>)[key] = n * scale;
  }
  if (v.entry) opts.entry = v.entry;
  if (v.env) {
    const env: Record<string, string> = {};
    for (const kv of v.env) {
      const eq = kv.indexOf('=');
      if (eq < 1) {
        process.stderr.write(`soak: --env needs KEY=VALUE, got ${kv}\n`);
        return 2;
      }
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    opts.env = env;
  }
  if (v['retry-known-500']) opts.retryKnown500 = true;
  if (v.quiet) opts.log = () => undefined;
  let result: SoakResult;
  try {
    result = await runSoak(opts);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    process.stderr.write(`${err.message} (concurrency and instances must be >= 1, fd-limit >= 32)\n`);
    return 2;
  }
  process.stdout.write(formatTable(result) + '\n');
  writeReports(result, { report: v.report, svg: v.svg, json: v.json });
  for (const [flag, file] of [['report', v.report], ['svg', v.svg], ['json', v.json]] as const) {
    if (file) process.stdout.write(`${flag}: ${resolve(file)}\n`);
  }
  return result.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
