// What changed between two snapshots of one process: fds by kind, and sockets that appeared or
// went away, grouped by peer and state. A socket that changed state counts as gone in its old
// state and new in its new one (ESTABLISHED → CLOSE_WAIT shows up as both).
import { FD_KINDS, type FdKind } from './proc-fds.ts';
import { compilePeerFilter, type PeerFilter } from './peer-filter.ts';
import type { Direction, SocketInfo, Snapshot } from './snapshot.ts';
import type { TcpState } from './tcp-states.ts';

export interface CountChange {
  before: number;
  after: number;
  delta: number;
}

export interface SocketChange {
  peer: string;
  direction: Direction;
  state: TcpState;
  count: number;
}

export interface SnapshotDiff {
  pid: number;
  elapsedMs: number;
  /** null when either snapshot could not read the fd table. */
  fds: (Record<FdKind, CountChange> & { total: CountChange }) | null;
  socketsNew: SocketChange[];
  socketsGone: SocketChange[];
  ghostsNew: number;
  ghostsGone: number;
}

function change(before: number, after: number): CountChange {
  return { before, after, delta: after - before };
}

function keyed(sockets: readonly SocketInfo[], matches: (s: SocketInfo) => boolean): Map<string, SocketInfo> {
  const map = new Map<string, SocketInfo>();
  for (const s of sockets) if (s.state !== 'TIME_WAIT' && matches(s)) map.set(`${s.inode} ${s.state}`, s);
  return map;
}

function grouped(only: Map<string, SocketInfo>, other: Map<string, SocketInfo>): SocketChange[] {
  const groups = new Map<string, SocketChange>();
  for (const [key, s] of only) {
    if (other.has(key)) continue;
    const groupKey = `${s.peer} ${s.direction} ${s.state}`;
    const group = groups.get(groupKey) ?? { peer: s.peer, direction: s.direction, state: s.state, count: 0 };
    group.count++;
    groups.set(groupKey, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.peer.localeCompare(b.peer));
}

export function diffSnapshots(before: Snapshot, after: Snapshot, options: { peer?: PeerFilter } = {}): SnapshotDiff {
  const matches = compilePeerFilter(options.peer);
  let fds: SnapshotDiff['fds'] = null;
  if (before.fds !== null && after.fds !== null) {
    const b = before.fds;
    const a = after.fds;
    const kinds = Object.fromEntries(FD_KINDS.map((k) => [k, change(b[k], a[k])])) as Record<FdKind, CountChange>;
    fds = { ...kinds, total: change(b.total, a.total) };
  }
  const beforeSockets = keyed(before.sockets, matches);
  const afterSockets = keyed(after.sockets, matches);
  const beforeGhosts = new Set(before.ghostInodes);
  const afterGhosts = new Set(after.ghostInodes);
  return {
    pid: after.pid,
    elapsedMs: after.timestamp - before.timestamp,
    fds,
    socketsNew: grouped(afterSockets, beforeSockets),
    socketsGone: grouped(beforeSockets, afterSockets),
    ghostsNew: after.ghostInodes.filter((i) => !beforeGhosts.has(i)).length,
    ghostsGone: before.ghostInodes.filter((i) => !afterGhosts.has(i)).length,
  };
}
