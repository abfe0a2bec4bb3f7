// warren as the chaos suite runs it: its own process and data dir, a short request budget
// (5 s) and per-attempt deadline (1 s), fast recovery and follow-ups, behind a fault proxy.
// It can be killed with SIGKILL and started again on the same data dir (same store), as an
// operator's supervisor would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OsbClient } from '../../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../../testkit/warren-process.ts';

export const BUDGET_MS = 5_000;
export const ATTEMPT_MS = 1_000;
/** Writes in doubt are looked for this long after an operation (in_doubt_look_ms). */
export const IN_DOUBT_LOOK_MS = 4_000;

export interface ChaosWarrenOptions {
  /** Port of the management API warren talks to (usually a fault proxy's). */
  managementPort: number;
  /** Further ports of the same API, as further nodes (e.g. a second proxy to fail over to). */
  moreManagementPorts?: number[];
  /** Port apps connect to (AMQP), written into credentials. */
  amqpPort?: number;
}

export class ChaosWarren {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'warren-chaos-'));
  private current: WarrenProcess | undefined;
  private client: OsbClient | undefined;
  /** Unexpected exits (not ours): a crash. */
  readonly crashes: string[] = [];
  /** Every log line of every process, in order. */
  readonly logs: string[] = [];
  restarts = 0;

  constructor(o: ChaosWarrenOptions) {
    writeFileSync(join(this.dataDir, 'warren.yml'), configYaml(o));
  }

  get osb(): OsbClient {
    if (!this.client) throw new Error('warren is not running');
    return this.client;
  }

  get pid(): number {
    if (!this.current) throw new Error('warren is not running');
    return this.current.pid;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  async start(): Promise<void> {
    const proc = await startWarrenProcess({
      dataDir: this.dataDir,
      env: { WARREN_CONFIG: join(this.dataDir, 'warren.yml'), WARREN_LOG_LEVEL: 'info' },
    });
    const seenBefore = proc.logs.length;
    this.logs.push(...proc.logs.slice(0, seenBefore));
    let killed = false;
    proc.child.once('exit', (code, signal) => {
      this.logs.push(...proc.logs.slice(seenBefore));
      if (!killed) this.crashes.push(`warren ${proc.pid} exited by itself: code ${code} signal ${signal}`);
    });
    this.markKill = () => {
      killed = true;
    };
    this.current = proc;
    this.client = new OsbClient({ url: proc.url, username: proc.username, password: proc.password, connections: 16 });
    await this.ready();
  }

  /** Until /ready answers 200 (RabbitMQ reached through the proxy), bounded. */
  async ready(ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const r = await this.osb.call('GET', '/ready').catch(() => undefined);
      if (r?.status === 200) return;
      if (Date.now() > end) throw new Error(`warren not ready after ${ms} ms: ${r?.status} ${r?.text}`);
      await sleep(100);
    }
  }

  private markKill: () => void = () => undefined;

  /** kill -9 now; the next start() takes over what this process left. */
  async kill9(): Promise<void> {
    const proc = this.current;
    if (!proc) return;
    this.markKill();
    this.current = undefined;
    const client = this.client;
    this.client = undefined;
    const exited = new Promise((resolve) => proc.child.once('exit', resolve));
    proc.child.kill('SIGKILL');
    await exited;
    await client?.close().catch(() => undefined);
  }

  async restart(): Promise<void> {
    await this.kill9();
    await this.start();
    this.restarts++;
  }

  /** SIGTERM and wait; the exit code (0 = a clean stop). */
  async stop(): Promise<number | null> {
    const proc = this.current;
    if (!proc) return 0;
    this.markKill();
    this.current = undefined;
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
    return proc.stop({ keepData: true });
  }

  /** Log lines (parsed) of every process so far, the running one included. */
  parsedLogs(): Array<Record<string, unknown>> {
    const lines = this.current ? [...this.logs, ...this.current.logs] : this.logs;
    const out: Array<Record<string, unknown>> = [];
    for (const l of lines) {
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* not JSON */
      }
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function configYaml(o: ChaosWarrenOptions): string {
  return `log_level: info
operations:
  request_budget_ms: ${BUDGET_MS}
  lease_ms: 2000
  busy_wait_ms: 500
  rollback_reserve_ms: 1500
  recovery_interval_ms: 300
  background_lease_ms: 2000
  async_budget_ms: 20000
  in_doubt_look_ms: ${IN_DOUBT_LOOK_MS}
rabbitmq:
  management_urls: [${[o.managementPort, ...(o.moreManagementPorts ?? [])].map((p) => `http://127.0.0.1:${p}`).join(', ')}]
  administrator: { username: guest, password: guest }
  hosts: [127.0.0.1]
  prefer_tls: false
${o.amqpPort ? `  protocols: { amqp: { port: ${o.amqpPort} } }\n` : ''}  unbind_confirm_timeout_ms: 2000
  pool:
    connections: 16
    attempt_timeout_ms: ${ATTEMPT_MS}
  health:
    probe_interval_ms: 500
    probe_backoff_max_ms: 1000
`;
}
