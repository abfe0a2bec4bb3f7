// A tiny TCP proxy in front of the real management API that can misbehave on demand: refuse
// with a RST, answer garbage, hang, answer 503, cut the response body mid-way, or stall it
// (headers and a few body bytes, then silence with the socket held open).
import net from 'node:net';

export type FaultMode = 'forward' | 'reset' | 'garbage' | 'hang' | 'http503' | 'cut-body' | 'stall-body';

export class FaultProxy {
  /** Connections accepted so far (all modes). */
  accepted = 0;
  private mode: FaultMode;
  private faultsLeft = Infinity;
  private readonly sockets = new Set<net.Socket>();
  /** Live forwarding pairs, so freeze() can stall connections that are already in use. */
  private readonly links = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private frozen: Array<{ client: net.Socket; upstream: net.Socket }> = [];
  /** Connections accepted in 'hang' mode, connected through when the proxy forwards again. */
  private hung = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
    mode: FaultMode,
    private readonly cutAfterBodyBytes: number,
  ) {
    this.mode = mode;
    server.on('connection', (s) => this.onConnection(s));
  }

  static async start(targetPort: number, mode: FaultMode = 'forward', cutAfterBodyBytes = 16): Promise<FaultProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FaultProxy(server, targetPort, mode, cutAfterBodyBytes);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /**
   * A node that stalls while in use (a long GC pause, say): every open forwarding connection
   * stops passing data (both sockets stay open, what the client sends meanwhile is dropped) and
   * new connections hang, until setMode() lets the frozen and hung connections flow again.
   */
  freeze(): void {
    this.setMode('hang');
    for (const link of this.links) {
      link.client.unpipe(link.upstream);
      link.upstream.unpipe(link.client);
      link.upstream.pause();
      link.client.resume(); // read and drop
      this.frozen.push(link);
    }
    this.links.clear();
  }

  /** Misbehave for the next `connections` connections (default: until told otherwise), then forward. */
  setMode(mode: FaultMode, connections = Infinity): void {
    this.mode = mode;
    this.faultsLeft = connections;
    if (mode === 'hang') return;
    for (const link of this.frozen) {
      if (link.client.destroyed || link.upstream.destroyed) continue;
      link.client.pipe(link.upstream);
      link.upstream.pipe(link.client);
      this.links.add(link);
    }
    this.frozen = [];
    if (mode !== 'forward') return;
    // What the node received while it hung is lost; the connections themselves work again.
    for (const client of this.hung) if (!client.destroyed) this.forward(client, undefined);
    this.hung.clear();
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private onConnection(client: net.Socket): void {
    this.accepted++;
    this.track(client);
    let mode = this.mode;
    if (mode !== 'forward' && this.faultsLeft-- <= 0) mode = 'forward';
    switch (mode) {
      case 'reset':
        client.resetAndDestroy();
        return;
      case 'hang':
        client.resume(); // read and ignore: the request is never answered
        this.hung.add(client);
        client.on('close', () => this.hung.delete(client));
        return;
      case 'garbage':
        client.once('data', () => client.end('SSH-2.0-OpenSSH_9.2\r\nthis is not HTTP\r\n\r\n'));
        return;
      case 'http503':
        client.on('data', () =>
          client.write('HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\nunavailable'),
        );
        return;
      case 'forward':
      case 'cut-body':
      case 'stall-body':
        this.forward(client, mode === 'forward' ? undefined : mode);
    }
  }

  private forward(client: net.Socket, cut: 'cut-body' | 'stall-body' | undefined): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.track(upstream);
    const link = { client, upstream };
    this.links.add(link);
    client.on('close', () => this.links.delete(link));
    // A stopped node refuses the proxy: the client sees its connection reset, as it would.
    upstream.on('error', () => client.resetAndDestroy());
    client.pipe(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    if (!cut) {
      upstream.pipe(client);
      return;
    }
    // Pass the headers and a few body bytes, then drop both sides.
    let seen = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const headerEnd = seen.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      client.write(seen.subarray(0, headerEnd + 4 + this.cutAfterBodyBytes));
      upstream.removeAllListeners('data');
      upstream.pause();
      if (cut === 'stall-body') return; // hold both sockets open, say nothing more
      client.destroy();
      upstream.destroy();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A 127.0.0.1 port that was bound and closed: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
