// An HTTP proxy in front of the real management API that misbehaves per request, not per TCP
// connection (fault-proxy.ts works on connections; warren keeps them alive across many
// requests). Rules match the request line ("PUT /api/users/...") and fault the Nth match, the
// first N matches, or a random share of them. The faults are the ways a management call goes
// wrong in production:
//   lost                 the connection drops before the request is forwarded (nothing applied)
//   applied-answer-lost  forwarded and applied, then the connection drops before the answer
//   stall                never forwarded, never answered; the socket stays open
//   http5xx              answered 503 (or the rule's status, e.g. RabbitMQ's own 500), not forwarded
//   truncated            forwarded; the answer announces more body than it sends, then drops
//   slow-drip            forwarded; the answer's body trickles a byte at a time
//   late                 held for `lateMs`, then forwarded whether or not the caller is still
//                        there (a write that lands after warren gave up on it)
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type RequestFault = 'lost' | 'applied-answer-lost' | 'stall' | 'http5xx' | 'truncated' | 'slow-drip' | 'late';
export const REQUEST_FAULTS: readonly RequestFault[] = ['lost', 'applied-answer-lost', 'stall', 'http5xx', 'truncated', 'slow-drip', 'late'];

export interface FaultRule {
  fault: RequestFault;
  /** Matched against "METHOD /path?query"; a string matches as a prefix. Default: every request. */
  match?: string | RegExp;
  /** Fault only the nth matching request (1-based). */
  nth?: number;
  /** Fault at most this many matching requests (default: no limit). */
  times?: number;
  /** Fault each matching request with this probability (default 1). */
  probability?: number;
  /** Status of an 'http5xx' answer (default 503; 500 is what RabbitMQ itself answers, and is not retried). */
  status?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  fault: RequestFault | null;
}

export interface RequestFaultProxyOptions {
  /** How long a 'late' request is held before it is forwarded anyway (default 3000 ms). */
  lateMs?: number;
  /** Pause between bytes of a 'slow-drip' body (default 200 ms). */
  dripMs?: number;
  /** Seed of the generator behind `probability` (runs repeat exactly). */
  seed?: number;
  /** Every forwarded request waits this long first (a slow path), so operations take a while. */
  delayMs?: number;
}

interface ActiveRule extends FaultRule {
  seen: number;
  faulted: number;
}

/** mulberry32: small, seedable, good enough to spread faults. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RequestFaultProxy {
  /** Every request seen, in arrival order, with the fault it got. */
  readonly seen: SeenRequest[] = [];
  /** Late requests that reached RabbitMQ after their caller had gone. */
  lateLanded = 0;
  private rules: ActiveRule[] = [];
  private readonly random: () => number;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly upstream: http.Agent;
  private readonly lateMs: number;
  private readonly dripMs: number;
  /** Called with each request line as it arrives, before any fault (e.g. to kill the caller then). */
  onRequest: ((line: string) => void) | undefined;
  /** See RequestFaultProxyOptions.delayMs; may be changed while running. */
  delayMs: number;
  private closing = false;

  private constructor(
    private readonly server: http.Server,
    private readonly targetPort: number,
    opts: RequestFaultProxyOptions,
  ) {
    this.random = generator(opts.seed ?? 1);
    this.lateMs = opts.lateMs ?? 3_000;
    this.dripMs = opts.dripMs ?? 200;
    this.delayMs = opts.delayMs ?? 0;
    this.upstream = new http.Agent({ keepAlive: true, maxSockets: 16 });
    // RabbitMQ unreachable (a node restarting): the caller sees its connection dropped.
    server.on('request', (req, res) => this.track(this.handle(req, res).catch(() => req.socket.destroy())));
    server.on('clientError', (_err, socket: net.Socket) => socket.destroy());
  }

  static async start(targetPort: number, opts: RequestFaultProxyOptions = {}): Promise<RequestFaultProxy> {
    const server = http.createServer({ keepAliveTimeout: 30_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RequestFaultProxy(server, targetPort, opts);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Adds a rule; the first rule that faults a request wins. */
  add(rule: FaultRule): this {
    this.rules.push({ ...rule, seen: 0, faulted: 0 });
    return this;
  }

  /** Forward everything from now on (late requests already held still land). */
  clear(): this {
    this.rules = [];
    return this;
  }

  /** How many requests got each fault so far. */
  counts(): Record<RequestFault, number> {
    const out = Object.fromEntries(REQUEST_FAULTS.map((f) => [f, 0])) as Record<RequestFault, number>;
    for (const s of this.seen) if (s.fault) out[s.fault]++;
    return out;
  }

  /** Waits until every held or forwarded request has ended (late ones have landed). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.upstream.destroy();
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  private pick(line: string): { fault: RequestFault; status: number } | null {
    for (const r of this.rules) {
      const hit = r.match === undefined || (typeof r.match === 'string' ? line.startsWith(r.match) : r.match.test(line));
      if (!hit) continue;
      r.seen++;
      if (r.nth !== undefined && r.seen !== r.nth) continue;
      if (r.times !== undefined && r.faulted >= r.times) continue;
      if (r.probability !== undefined && this.random() >= r.probability) continue;
      r.faulted++;
      return { fault: r.fault, status: r.status ?? 503 };
    }
    return null;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.onRequest?.(`${method} ${path}`);
    const picked = this.pick(`${method} ${path}`);
    const fault = picked?.fault ?? null;
    this.seen.push({ method, path, fault });
    const socket = req.socket;
    switch (fault) {
      case 'lost':
        socket.destroy();
        return;
      case 'stall':
        // The caller's deadline ends it; until then the socket stays open and silent.
        if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
        return;
      case 'http5xx':
        res.writeHead(picked!.status, { 'content-type': 'application/json' }).end('{"error":"injected","reason":"injected by the fault proxy"}');
        return;
      case 'late': {
        await sleep(this.lateMs);
        if (this.closing) return;
        const gone = socket.destroyed;
        const answer = await this.forward(method, path, req.headers, body);
        if (gone || socket.destroyed) {
          this.lateLanded++;
          return;
        }
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      default: {
        if (this.delayMs > 0) await sleep(this.delayMs);
        const answer = await this.forward(method, path, req.headers, body);
        if (fault === 'applied-answer-lost') {
          socket.destroy();
          return;
        }
        if (fault === 'truncated') {
          const headers = { ...answer.headers, 'content-length': String(answer.body.length + 16) };
          res.writeHead(answer.status, headers);
          res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
          setImmediate(() => socket.destroy());
          return;
        }
        if (fault === 'slow-drip') {
          res.writeHead(answer.status, answer.headers);
          for (const byte of answer.body) {
            if (socket.destroyed || this.closing) return;
            res.write(Buffer.from([byte]));
            await sleep(this.dripMs);
          }
          res.end();
          return;
        }
        res.writeHead(answer.status, answer.headers).end(answer.body);
      }
    }
  }

  /** Sends the request on to RabbitMQ and reads the whole answer. */
  private forward(
    method: string, path: string, headers: http.IncomingHttpHeaders, body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = http.request(
        { host: '127.0.0.1', port: this.targetPort, method, path, headers: { ...headers, connection: 'keep-alive' }, agent: this.upstream },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('error', reject);
          up.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(up.headers)) {
              if (v === undefined || k === 'transfer-encoding' || k === 'connection' || k === 'keep-alive') continue;
              h[k] = Array.isArray(v) ? v.join(', ') : v;
            }
            const all = Buffer.concat(parts);
            h['content-length'] = String(all.length);
            resolve({ status: up.statusCode ?? 502, headers: h, body: all });
          });
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
