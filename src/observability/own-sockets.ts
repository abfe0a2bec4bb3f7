// This process's sockets to the RabbitMQ management nodes and its fd usage, read from /proc
// through the leak guard. One snapshot serves every reader for a second: /metrics and /ready
// may be polled often, and a large /proc/net/tcp takes a while to parse.
import { isIP } from 'node:net';
import { formatEndpoint } from '../leakguard/inet-address.ts';
import { takeSnapshot, type Snapshot } from '../leakguard/snapshot.ts';
import type { SocketCount } from './broker-metrics.ts';

export interface NodeAddress {
  host: string;
  port: number;
}

export function ownSocketGauges(nodes: NodeAddress[]) {
  let cached: { at: number; snap: Snapshot | null } | undefined;
  // Reading /proc/self/fd needs a free fd itself: failing with EMFILE is the answer.
  let exhausted = false;
  let lastSoftLimit: number | undefined;
  const snapshot = (): Snapshot | null => {
    const now = Date.now();
    if (cached && now - cached.at < 1000) return cached.snap;
    let snap: Snapshot | null = null;
    try {
      snap = takeSnapshot('self');
      exhausted = false;
      if (typeof snap.limits?.soft === 'number') lastSoftLimit = snap.limits.soft;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      exhausted = code === 'EMFILE' || code === 'ENFILE';
      snap = null; // otherwise no /proc (not Linux): report nothing rather than fail the scrape
    }
    cached = { at: now, snap };
    return snap;
  };
  snapshot(); // learn the fd limit while fds are plentiful
  cached = undefined;

  // A node named by IP must match that address:port; one named by hostname matches its port.
  const endpoints = new Set(nodes.filter((n) => isIP(n.host)).map((n) => formatEndpoint(n.host, n.port)));
  const hostnamePorts = new Set(nodes.filter((n) => !isIP(n.host)).map((n) => n.port));
  const toNode = (remote: string, port: number) => endpoints.has(remote) || hostnamePorts.has(port);

  const rabbitSockets = () => {
    const snap = snapshot();
    return snap ? snap.sockets.filter((s) => s.direction === 'out' && toNode(s.remote, s.remotePort)) : [];
  };

  // Unauthenticated /metrics names a node by its position in management_urls, not its address.
  const nodeIndex = (remote: string, port: number): string => {
    const i = nodes.findIndex((n) => (isIP(n.host) ? formatEndpoint(n.host, n.port) === remote : n.port === port));
    return String(Math.max(i, 0));
  };

  return {
    byPeerAndState(): SocketCount[] {
      const counts = new Map<string, SocketCount>();
      for (const s of rabbitSockets()) {
        const node = nodeIndex(s.remote, s.remotePort);
        const k = `${node}|${s.state}`;
        const c = counts.get(k);
        if (c) c.count++;
        else counts.set(k, { node, state: s.state, count: 1 });
      }
      return [...counts.values()];
    },
    closeWaitCount(): number {
      return rabbitSockets().filter((s) => s.state === 'CLOSE_WAIT').length;
    },
    fdUsage(): { open: number; soft: number } | null {
      const snap = snapshot();
      if (exhausted && lastSoftLimit) return { open: lastSoftLimit, soft: lastSoftLimit };
      const soft = snap?.limits?.soft;
      if (!snap?.fds || typeof soft !== 'number') return null;
      return { open: snap.fds.total, soft };
    },
  };
}
