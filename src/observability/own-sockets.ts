// This process's sockets (to the RabbitMQ management nodes, and to every peer) and its fds by
// kind, read from /proc through the leak guard. One snapshot serves every reader for a second:
// /metrics and /ready may be polled often, and a large /proc/net/tcp takes a while to parse.
// The looks are also kept for two minutes, so /ready can judge fd growth over them.
import { isIP } from 'node:net';
import {
  FD_KINDS,
  describeGrowth,
  findGrowth,
  formatEndpoint,
  takeSnapshot,
  type FdKind,
  type GrowthFinding,
  type Snapshot,
} from '../../packages/leakguard/src/index.ts';
import type { PeerSocketCount, SocketCount } from './broker-metrics.ts';

/** How long looks are kept for growth, and how far apart they must be. */
const HISTORY_MS = 120_000;
const HISTORY_STEP_MS = 2_000;

export interface FdPressure {
  /** Steady growth of one fd kind or peer, and when it would reach the soft limit at that rate. */
  growth: GrowthFinding;
  secondsToLimit: number | null;
  /** For unauthenticated /ready: peers by their public names (see publicPeer), no addresses. */
  text: string;
  /** For the log: the same with the peer's address. */
  reason: string;
}

export interface NodeAddress {
  host: string;
  port: number;
}

export function ownSocketGauges(nodes: NodeAddress[]) {
  let cached: { at: number; snap: Snapshot | null } | undefined;
  // Reading /proc/self/fd needs a free fd itself: failing with EMFILE is the answer.
  let exhausted = false;
  let lastSoftLimit: number | undefined;
  const history: Snapshot[] = [];
  const remember = (snap: Snapshot): void => {
    const previous = history.at(-1);
    if (previous !== undefined && snap.timestamp - previous.timestamp < HISTORY_STEP_MS) return;
    history.push(snap);
    while ((history[0]?.timestamp ?? Infinity) < snap.timestamp - HISTORY_MS) history.shift();
  };
  const snapshot = (): Snapshot | null => {
    const now = Date.now();
    if (cached && now - cached.at < 1000) return cached.snap;
    let snap: Snapshot | null = null;
    try {
      snap = takeSnapshot('self');
      exhausted = false;
      if (typeof snap.limits?.soft === 'number') lastSoftLimit = snap.limits.soft;
      remember(snap);
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
  history.length = 0;

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

  // Unauthenticated /metrics and /ready never show a peer's address: a management node is named
  // by its position, warren's own listener by its port, any other peer by its port.
  const publicPeer = (s: { direction: string; remote: string; remotePort: number; localPort: number }): string => {
    if (s.direction !== 'out') return `listener:${s.localPort}`;
    if (toNode(s.remote, s.remotePort)) return `rabbitmq:${nodeIndex(s.remote, s.remotePort)}`;
    return `port:${s.remotePort}`;
  };
  /** Address:port (SocketInfo.peer) → public name, from what a snapshot holds. */
  const publicNames = (snap: Snapshot | undefined): Map<string, string> => {
    const names = new Map<string, string>();
    for (const s of snap?.sockets ?? []) names.set(s.peer, publicPeer(s));
    return names;
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
    /** Every TCP socket of this process by peer (its public name), direction and state. */
    allByPeerAndState(): PeerSocketCount[] {
      const counts = new Map<string, PeerSocketCount>();
      for (const s of snapshot()?.sockets ?? []) {
        const peer = publicPeer(s);
        const k = `${peer}|${s.direction}|${s.state}`;
        const c = counts.get(k);
        if (c) c.count++;
        else counts.set(k, { peer, direction: s.direction, state: s.state, count: 1 });
      }
      return [...counts.values()];
    },
    /** Open fds by kind (socket, file, pipe, anon_inode, other); empty where /proc cannot tell. */
    fdsByKind(): Array<{ kind: FdKind; count: number }> {
      const fds = snapshot()?.fds;
      return fds ? FD_KINDS.map((kind) => ({ kind, count: fds[kind] })) : [];
    },
    /**
     * fd kinds and peers whose counts rose steadily over the looks of the last two minutes,
     * each with the time to the soft limit at its rate. Needs three looks 2 s apart or more.
     */
    fdPressure(): FdPressure[] {
      snapshot();
      const soft = lastSoftLimit;
      const open = history.at(-1)?.fds?.total;
      const names = publicNames(history.at(-1));
      return findGrowth(history).map((growth) => {
        const secondsToLimit = soft !== undefined && open !== undefined ? Math.max(0, (soft - open) / growth.perSecond) : null;
        const eta = secondsToLimit === null ? '' : `, soft limit in ${Math.round(secondsToLimit)} s at this rate`;
        const subject = growth.subject;
        const shown = subject.kind === 'sockets' ? { ...growth, subject: { ...subject, peer: names.get(subject.peer) ?? 'a peer' } } : growth;
        return { growth, secondsToLimit, text: describeGrowth(shown) + eta, reason: describeGrowth(growth) + eta };
      });
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
