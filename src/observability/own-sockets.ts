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
import type { SocketCount } from './broker-metrics.ts';

/** How long looks are kept for growth, and how far apart they must be. */
const HISTORY_MS = 120_000;
const HISTORY_STEP_MS = 2_000;

export interface FdPressure {
  /** Steady growth of one fd kind, and when it would reach the soft limit at that rate. */
  growth: GrowthFinding;
  secondsToLimit: number | null;
  text: string;
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

  return {
    byPeerAndState(): SocketCount[] {
      const counts = new Map<string, SocketCount>();
      for (const s of rabbitSockets()) {
        const k = `${s.peer}|${s.state}`;
        const c = counts.get(k);
        if (c) c.count++;
        else counts.set(k, { peer: s.peer, state: s.state, count: 1 });
      }
      return [...counts.values()];
    },
    /** Every TCP socket of this process by peer (see SocketInfo.peer), direction and state. */
    allByPeerAndState(): Array<SocketCount & { direction: string }> {
      const counts = new Map<string, SocketCount & { direction: string }>();
      for (const s of snapshot()?.sockets ?? []) {
        const k = `${s.peer}|${s.direction}|${s.state}`;
        const c = counts.get(k);
        if (c) c.count++;
        else counts.set(k, { peer: s.peer, direction: s.direction, state: s.state, count: 1 });
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
      return findGrowth(history).map((growth) => {
        const secondsToLimit = soft !== undefined && open !== undefined ? Math.max(0, (soft - open) / growth.perSecond) : null;
        const eta = secondsToLimit === null ? '' : `, soft limit in ${Math.round(secondsToLimit)} s at this rate`;
        return { growth, secondsToLimit, text: describeGrowth(growth) + eta };
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
