// N warren processes on one PostgreSQL store, as a platform runs them: same broker credentials,
// same encryption key, each its own data directory and port, behind a round-robin load
// balancer. Replicas can be stopped (SIGTERM, drained), killed (-9) and added; each keeps a
// leak-guard baseline so a test can prove that none of them leaked a socket.
import { randomBytes } from 'node:crypto';
import { assertNoLeaks, takeSnapshot, type SettleResult, type Snapshot } from '../../../packages/leakguard/src/index.ts';
import { OsbClient, type OsbAnswer } from '../../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../../testkit/warren-process.ts';
import { RoundRobinProxy } from './round-robin-proxy.ts';

export interface Replica {
  /** r1, r2, ... in start order (a replacement gets a new name). */
  name: string;
  proc: WarrenProcess;
  url: string;
  pid: number;
  /** Talks to this replica only, bypassing the load balancer. */
  osb: OsbClient;
  baseline: Snapshot;
  alive: boolean;
}

/** An answer, or the connection-level error that took its place, from one replica. */
export interface ReplicaAnswer {
  replica: string;
  answer?: OsbAnswer;
  error?: Error & { code?: string };
  /** When the answer (or error) arrived, ms since the epoch. */
  at: number;
  ms: number;
}

export interface ReplicaSetOptions {
  storeUrl: string;
  count: number;
  /** Extra environment for every replica (e.g. lease timings). */
  env?: Record<string, string>;
}

export class ReplicaSet {
  readonly username = 'warren-replicas';
  readonly password = `pw-${randomBytes(12).toString('hex')}`;
  private readonly key = randomBytes(32).toString('base64');
  readonly replicas: Replica[] = [];
  readonly proxy = new RoundRobinProxy();
  /** The load balancer's address: what a platform is given. */
  url = '';
  /** An OSBAPI client through the load balancer. */
  lb!: OsbClient;
  private started = 0;

  constructor(private readonly o: ReplicaSetOptions) {}

  get env(): Record<string, string> {
    return {
      WARREN_STORE_URL: this.o.storeUrl,
      WARREN_ENCRYPTION_KEY: this.key,
      WARREN_USERNAME: this.username,
      WARREN_PASSWORD: this.password,
      WARREN_LOG_LEVEL: 'warn',
      ...this.o.env,
    };
  }

  async start(): Promise<void> {
    this.url = await this.proxy.start();
    this.lb = this.client(this.url);
    // One after the other: the first creates the schema; 2 shared cores.
    for (let i = 0; i < this.o.count; i++) await this.addReplica();
  }

  client(url: string, connections = 16): OsbClient {
    return new OsbClient({ url, username: this.username, password: this.password, connections });
  }

  get live(): Replica[] {
    return this.replicas.filter((r) => r.alive);
  }

  /** Starts one more replica and puts it behind the load balancer. */
  async addReplica(): Promise<Replica> {
    const proc = await startWarrenProcess({ env: this.env });
    const name = `r${++this.started}`;
    const replica: Replica = {
      name, proc, url: proc.url, pid: proc.pid, osb: this.client(proc.url), baseline: takeSnapshot(proc.pid), alive: true,
    };
    proc.child.once('exit', () => (replica.alive = false));
    this.replicas.push(replica);
    this.proxy.add(proc.url);
    return replica;
  }

  /**
   * SIGTERM, as a platform stops an instance; the load balancer keeps the address until the
   * process is gone (it learns from refused connects). Resolves with the exit code and how long
   * the drain took.
   */
  async stopReplica(r: Replica): Promise<{ code: number | null; ms: number }> {
    const t0 = Date.now();
    const code = await r.proc.stop();
    this.proxy.remove(r.url);
    await r.osb.close();
    return { code, ms: Date.now() - t0 };
  }

  /** kill -9: no drain, no lease released. Resolves once the process is gone. */
  async killReplica(r: Replica): Promise<void> {
    const gone = new Promise<void>((resolve) => {
      if (r.proc.child.exitCode !== null || r.proc.child.signalCode !== null) return resolve();
      r.proc.child.once('exit', () => resolve());
    });
    r.proc.child.kill('SIGKILL');
    await gone;
    r.alive = false;
    this.proxy.remove(r.url);
    await r.osb.agent.destroy().catch(() => undefined);
  }

  /** Sends the same request to every live replica at once: a platform's retry through a load balancer. */
  async fanout(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, replicas = this.live): Promise<ReplicaAnswer[]> {
    return Promise.all(replicas.map((r) => callReplica(r, method, path, body)));
  }

  /** Settle-and-compare on every live replica against the baseline taken when it started. */
  async assertNoLeaks(): Promise<SettleResult[]> {
    // Our own idle keep-alive sockets are not the replicas' leaks, but closing them first
    // means a replica that fails to close its end shows up as CLOSE_WAIT.
    const results: SettleResult[] = [];
    for (const r of this.live) {
      await r.osb.close();
      r.osb = this.client(r.url);
    }
    await this.lb.close();
    this.lb = this.client(this.url);
    for (const r of this.live) {
      // Pools (PostgreSQL, management) may hold more idle connections than at start: that is
      // growth, not a leak. The leak classes (CLOSE_WAIT, unread bytes, ghosts) must be empty.
      results.push(await assertNoLeaks(r.baseline, { allowedFdGrowth: 96, deadlineMs: 8000 }));
    }
    return results;
  }

  /** Stops every replica still running (SIGTERM, then the harness's SIGKILL) and the proxy. */
  async close(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (r) => {
        await r.osb.close().catch(() => undefined);
        await r.proc.stop(); // SIGTERM if still running; removes the data directory either way
      }),
    );
    await this.lb?.close().catch(() => undefined);
    await this.proxy.close();
  }
}

export async function callReplica(r: Replica, method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<ReplicaAnswer> {
  const t0 = Date.now();
  try {
    const answer = await r.osb.call(method, path, body === undefined ? {} : { body });
    return { replica: r.name, answer, at: Date.now(), ms: Date.now() - t0 };
  } catch (err) {
    return { replica: r.name, error: err as Error, at: Date.now(), ms: Date.now() - t0 };
  }
}

/** "201", "422 ConcurrencyError", "ECONNRESET"...: one word per answer, for histograms. */
export function outcome(a: ReplicaAnswer): string {
  if (a.error) return a.error.code ?? a.error.name;
  const s = a.answer!.status;
  const code = a.answer!.body?.error;
  return s >= 400 && typeof code === 'string' ? `${s} ${code}` : String(s);
}

/** Counts of each outcome. */
export function histogram(outcomes: string[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const o of outcomes) h[o] = (h[o] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort());
}

/**
 * Every 5xx a replica answered must be logged with its cause and counted: how many of each it
 * has, from its log lines (a `status` of 5xx) and from warren_osbapi_requests_total on /metrics.
 */
export async function serverErrorsAccountedFor(r: Replica): Promise<{ logged: number; counted: number }> {
  let logged = 0;
  for (const line of r.proc.logs) {
    try {
      const rec = JSON.parse(line) as { status?: unknown; cause?: unknown; err?: unknown };
      if (typeof rec.status === 'number' && rec.status >= 500 && (rec.cause !== undefined || rec.err !== undefined)) logged++;
    } catch {
      // not JSON
    }
  }
  const m = await r.osb.call('GET', '/metrics');
  let counted = 0;
  for (const l of m.text.split('\n')) {
    if (l.startsWith('warren_osbapi_requests_total{') && /code="5\d\d"/.test(l)) counted += Number(l.trim().split(/\s+/).at(-1));
  }
  return { logged, counted };
}
