// What a soak run can be told: sizes, limits, bounds, where RabbitMQ is, and the defaults
// (the full soak of docs/soak.md).
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
