// The three leak classes, judged over one or more snapshots of the same process.
//  close-wait: the peer has hung up and the process never closed its end.
//  stuck-rx:   ESTABLISHED with received bytes that nobody reads (an unconsumed response body).
//  ghost:      a socket fd no /proc/net table lists any more (reset by the peer, never closed).
// And over three or more samples, growth (growth.ts): a count of fds or of sockets to one peer
// that keeps rising.
// A socket counts only if it stays in its class in every sample (by inode) and its unread
// bytes never shrink: a socket that is being read or closed is busy, not leaked.
import { MIN_GROWTH_SAMPLES, findGrowth, type GrowthFinding } from './growth.ts';
import { compilePeerFilter, type PeerFilter } from './peer-filter.ts';
import type { Direction, SocketInfo, Snapshot } from './snapshot.ts';

export type LeakClass = 'close-wait' | 'stuck-rx' | 'ghost';
export const LEAK_CLASSES: readonly LeakClass[] = ['close-wait', 'stuck-rx', 'ghost'];

export interface LeakGroup {
  leakClass: LeakClass;
  /** address:port (see SocketInfo.peer), or 'unknown' for a ghost never seen in a table. */
  peer: string;
  direction: Direction | 'unknown';
  count: number;
  /** Unread bytes held in these sockets' receive queues. */
  rxBytes: number;
  inodes: number[];
}

export interface LeakReport {
  pid: number;
  samples: number;
  /** Time between the first and the last sample. */
  spanMs: number;
  /** stuck-rx needs at least two samples to tell a stuck socket from a busy one. */
  stuckRxJudged: boolean;
  /** Largest first. */
  groups: LeakGroup[];
  /** Steady growth needs at least three samples. */
  growthJudged: boolean;
  /** Counts that kept rising across the samples, fastest first. */
  growth: GrowthFinding[];
  counts: Record<LeakClass, number>;
  total: number;
  /** Ghosts left out because a peer filter was given and their peer was never seen. */
  unattributedGhosts: number;
  ok: boolean;
}

export interface FindLeaksOptions {
  /** Only sockets with this port or address:port at either end (ghosts: only if their peer is known). */
  peer?: PeerFilter;
  /** Ignore sockets and ghosts that were already leaking in this earlier snapshot. */
  baseline?: Snapshot;
  /** Sockets seen in earlier looks (see rememberSockets), to name the peers of later ghosts. */
  seen?: ReadonlyMap<number, SocketInfo>;
  /** Judge growth (default true when there are three samples or more). */
  growth?: boolean;
  /** Smallest rise over the window that counts as growth (default 3). */
  growthMinIncrease?: number;
}

/**
 * Adds a snapshot's sockets to a memory of inode → socket, and forgets inodes the process no
 * longer holds, so the memory stays as small as the process's socket table.
 */
export function rememberSockets(seen: Map<number, SocketInfo>, snapshot: Snapshot): Map<number, SocketInfo> {
  const held = new Set(snapshot.ghostInodes);
  for (const s of snapshot.sockets) {
    held.add(s.inode);
    seen.set(s.inode, s);
  }
  for (const inode of seen.keys()) if (!held.has(inode)) seen.delete(inode);
  return seen;
}

export class FdAccessDeniedError extends Error {
  constructor(readonly pid: number) {
    super(
      `cannot inspect pid ${pid}: /proc/${pid}/fd is not readable (permission denied); ` +
        'run as the same user as the process, or as root',
    );
    this.name = 'FdAccessDeniedError';
  }
}

function isUnread(s: SocketInfo): boolean {
  return s.state === 'CLOSE_WAIT' || (s.state === 'ESTABLISHED' && s.rxQueue > 0);
}

function byInode(snapshot: Snapshot): Map<number, SocketInfo> {
  return new Map(snapshot.sockets.map((s) => [s.inode, s]));
}

function classify(samples: readonly Snapshot[], options: FindLeaksOptions, stuckOnOneSample: boolean): LeakReport {
  const last = samples.at(-1);
  const first = samples[0];
  if (last === undefined || first === undefined) throw new RangeError('findLeaks needs at least one snapshot');
  for (const s of samples) if (s.fdAccess === 'denied') throw new FdAccessDeniedError(s.pid);
  const matches = compilePeerFilter(options.peer);
  const earlier = samples.slice(0, -1).map(byInode);
  const stuckRxJudged = samples.length >= 2 || stuckOnOneSample;

  const excluded = new Set<number>(options.baseline?.ghostInodes ?? []);
  for (const s of options.baseline?.sockets ?? []) if (isUnread(s)) excluded.add(s.inode);

  const groups = new Map<string, LeakGroup>();
  const add = (leakClass: LeakClass, socket: SocketInfo | undefined, inode: number): void => {
    const peer = socket?.peer ?? 'unknown';
    const direction = socket?.direction ?? 'unknown';
    const key = `${leakClass} ${peer} ${direction}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { leakClass, peer, direction, count: 0, rxBytes: 0, inodes: [] };
      groups.set(key, group);
    }
    group.count++;
    group.rxBytes += leakClass === 'ghost' ? 0 : (socket?.rxQueue ?? 0);
    group.inodes.push(inode);
  };

  for (const socket of last.sockets) {
    if (!isUnread(socket) || excluded.has(socket.inode) || !matches(socket)) continue;
    if (socket.state === 'ESTABLISHED' && !stuckRxJudged) continue;
    let persistent = true;
    let rx = socket.rxQueue;
    for (let i = earlier.length - 1; i >= 0 && persistent; i--) {
      const before = earlier[i]?.get(socket.inode);
      persistent = before !== undefined && isUnread(before) && before.rxQueue <= rx;
      if (before !== undefined) rx = before.rxQueue;
    }
    if (persistent) add(socket.state === 'CLOSE_WAIT' ? 'close-wait' : 'stuck-rx', socket, socket.inode);
  }

  const ghostSets = samples.slice(0, -1).map((s) => new Set(s.ghostInodes));
  let lastSeen: Map<number, SocketInfo> | undefined;
  let unattributedGhosts = 0;
  for (const inode of last.ghostInodes) {
    if (excluded.has(inode) || !ghostSets.every((set) => set.has(inode))) continue;
    // A ghost has left the tables, but an earlier look may still name its peer.
    if (lastSeen === undefined) {
      lastSeen = new Map(options.seen);
      for (const s of [options.baseline, ...samples]) for (const x of s?.sockets ?? []) lastSeen.set(x.inode, x);
    }
    const seen = lastSeen.get(inode);
    if (options.peer !== undefined && seen === undefined) unattributedGhosts++;
    if (options.peer !== undefined && (seen === undefined || !matches(seen))) continue;
    add('ghost', seen, inode);
  }

  const list = [...groups.values()].sort((a, b) => b.count - a.count || a.peer.localeCompare(b.peer));
  const counts: Record<LeakClass, number> = { 'close-wait': 0, 'stuck-rx': 0, ghost: 0 };
  for (const g of list) counts[g.leakClass] += g.count;
  const total = counts['close-wait'] + counts['stuck-rx'] + counts.ghost;
  const growthJudged = options.growth !== false && samples.length >= MIN_GROWTH_SAMPLES;
  const growth = growthJudged ? findGrowth(samples, { peer: options.peer, minIncrease: options.growthMinIncrease }) : [];
  return {
    pid: last.pid,
    samples: samples.length,
    spanMs: last.timestamp - first.timestamp,
    stuckRxJudged,
    groups: list,
    growthJudged,
    growth,
    counts,
    total,
    unattributedGhosts,
    ok: total === 0 && growth.length === 0,
  };
}

/** Leaks that persisted across all the given snapshots (oldest first) of one process. */
export function findLeaks(samples: readonly Snapshot[], options: FindLeaksOptions = {}): LeakReport {
  return classify(samples, options, false);
}

/**
 * Everything in one snapshot that could be a leak, including ESTABLISHED sockets with unread
 * bytes: a snapshot with no candidates is certainly clean.
 */
export function leakCandidates(snapshot: Snapshot, options: FindLeaksOptions = {}): LeakReport {
  return classify([snapshot], { ...options, growth: false }, true);
}
