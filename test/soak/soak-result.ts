// What a soak run records and returns: samples over time, answers (expected failures included),
// AMQP kills, fds, RSS, the leak guard's verdicts and what was left in RabbitMQ.
import type { LeakClass, SocketSummary } from '../../packages/leakguard/src/index.ts';
import type { SoakOptions } from './soak-options.ts';

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

/** A result with nothing measured yet: what a run fills in as it goes. */
export function emptyResult(o: SoakOptions, prefix: string, startedAt: number): SoakResult {
  const { log: _log, onStarted: _onStarted, ...publicOptions } = o;
  return {
    ok: false,
    failures: [],
    options: publicOptions,
    entry: o.entry ?? 'src/cli/warren.ts serve',
    prefix,
    pid: null,
    limits: null,
    startedAt: new Date(startedAt).toISOString(),
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
}
