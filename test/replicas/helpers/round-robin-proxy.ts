// A small TCP load balancer on 127.0.0.1, as a platform puts in front of broker replicas: each
// new connection goes to the next backend in turn. A backend that refuses the connection is
// skipped (the passive health check every load balancer has), so a stopped replica costs a
// connect attempt, never a failed request. Bytes are relayed untouched, so a replica's
// `Connection: close` or a reset reaches the client as it would through a real one.
// With `latencyMs`, every chunk from a backend is held that long: a slow upstream (put in front
// of RabbitMQ's management API, it keeps warren's requests in flight long enough to be caught
// by a SIGTERM or a kill). stall() holds every answer until resume(): a stalled upstream.
import net from 'node:net';
import { Transform } from 'node:stream';

export interface Backend {
  host: string;
  port: number;
}

export class RoundRobinProxy {
  private backends: Backend[] = [];
  private next = 0;
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;
  /** Connections relayed, by backend "host:port". */
  readonly relayed = new Map<string, number>();
  /** Client connections that found no backend accepting. */
  unrouted = 0;
  port = 0;

  private gate: { promise: Promise<void>; open: () => void } | undefined;

  constructor(private readonly o: { latencyMs?: number } = {}) {}

  /** Holds every byte from the backends (answers in flight and new ones) until resume(). */
  stall(): void {
    if (this.gate) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  resume(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  private async hold(): Promise<void> {
    if (this.o.latencyMs) await new Promise((r) => setTimeout(r, this.o.latencyMs));
    while (this.gate) await this.gate.promise;
  }

  async start(): Promise<string> {
    const server = net.createServer((client) => this.route(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  /** Adds a backend given as a URL (http://127.0.0.1:port) or host and port. */
  add(url: string): void {
    const u = new URL(url);
    this.backends.push({ host: u.hostname, port: Number(u.port) });
  }

  remove(url: string): void {
    const u = new URL(url);
    this.backends = this.backends.filter((b) => !(b.host === u.hostname && b.port === Number(u.port)));
  }

  private route(client: net.Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    client.pause();
    const tried = new Set<string>();
    const attempt = (): void => {
      const candidates = this.backends.filter((b) => !tried.has(`${b.host}:${b.port}`));
      if (candidates.length === 0 || client.destroyed) {
        this.unrouted++;
        client.destroy();
        return;
      }
      const b = this.backends[this.next++ % this.backends.length]!;
      const key = `${b.host}:${b.port}`;
      if (tried.has(key)) {
        attempt();
        return;
      }
      tried.add(key);
      const upstream = net.connect({ host: b.host, port: b.port });
      this.sockets.add(upstream);
      upstream.once('close', () => this.sockets.delete(upstream));
      const refused = (): void => {
        upstream.destroy();
        attempt();
      };
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        this.relayed.set(key, (this.relayed.get(key) ?? 0) + 1);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        // A clean close passes through as one (pipe ends the other side once its data is
        // written); a reset (the 'error' handlers above) ends both at once.
        upstream.once('close', () => client.end());
        client.once('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(this.held()).pipe(client);
        client.resume();
      });
    };
    attempt();
  }

  /** Passes chunks on in order, each after hold(). */
  private held(): Transform {
    return new Transform({
      transform: (chunk, _enc, done) => {
        this.hold().then(() => done(null, chunk), done);
      },
    });
  }

  async close(): Promise<void> {
    this.resume();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
