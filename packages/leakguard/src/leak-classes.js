// The three leak classes, judged over one or more snapshots of the same process.
//  close-wait: the peer has hung up and the process never closed its end.
//  stuck-rx:   ESTABLISHED with received bytes that nobody reads (an unconsumed response body).
//  ghost:      a socket fd no /proc/net table lists any more (reset by the peer, never closed).
// And over three or more samples, growth (growth.ts): a count of fds or of sockets to one peer
// that keeps rising.
// A socket counts only if it stays in its class in every sample (by inode) and its unread
// bytes never shrink: a socket that is being read or closed is busy, not leaked.
import { MIN_GROWTH_SAMPLES, findGrowth } from "./growth.js";
import { compilePeerFilter } from "./peer-filter.js";
export const LEAK_CLASSES = ['close-wait', 'stuck-rx', 'ghost'];
/**
 * Adds a snapshot's sockets to a memory of inode → socket, and forgets inodes the process no
 * longer holds, so the memory stays as small as the process's socket table.
 */
export function rememberSockets(seen, snapshot) {
    const held = new Set(snapshot.ghostInodes);
    for (const s of snapshot.sockets) {
        held.add(s.inode);
        seen.set(s.inode, s);
    }
    for (const inode of seen.keys())
        if (!held.has(inode))
            seen.delete(inode);
    return seen;
}
export class FdAccessDeniedError extends Error {
    pid;
    constructor(pid) {
        super(`cannot inspect pid ${pid}: /proc/${pid}/fd is not readable (permission denied); ` +
            'run as the same user as the process, or as root');
        this.pid = pid;
        this.name = 'FdAccessDeniedError';
    }
}
function isUnread(s) {
    return s.state === 'CLOSE_WAIT' || (s.state === 'ESTABLISHED' && s.rxQueue > 0);
}
function byInode(snapshot) {
    return new Map(snapshot.sockets.map((s) => [s.inode, s]));
}
function classify(samples, options, stuckOnOneSample) {
    const last = samples.at(-1);
    const first = samples[0];
    if (last === undefined || first === undefined)
        throw new RangeError('findLeaks needs at least one snapshot');
    for (const s of samples)
        if (s.fdAccess === 'denied')
            throw new FdAccessDeniedError(s.pid);
    const matches = compilePeerFilter(options.peer);
    const earlier = samples.slice(0, -1).map(byInode);
    const stuckRxJudged = samples.length >= 2 || stuckOnOneSample;
    const excluded = new Set(options.baseline?.ghostInodes ?? []);
    for (const s of options.baseline?.sockets ?? [])
        if (isUnread(s))
            excluded.add(s.inode);
    const groups = new Map();
    const add = (leakClass, socket, inode) => {
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
        if (!isUnread(socket) || excluded.has(socket.inode) || !matches(socket))
            continue;
        if (socket.state === 'ESTABLISHED' && !stuckRxJudged)
            continue;
        let persistent = true;
        let rx = socket.rxQueue;
        for (let i = earlier.length - 1; i >= 0 && persistent; i--) {
            const before = earlier[i]?.get(socket.inode);
            persistent = before !== undefined && isUnread(before) && before.rxQueue <= rx;
            if (before !== undefined)
                rx = before.rxQueue;
        }
        if (persistent)
            add(socket.state === 'CLOSE_WAIT' ? 'close-wait' : 'stuck-rx', socket, socket.inode);
    }
    const ghostSets = samples.slice(0, -1).map((s) => new Set(s.ghostInodes));
    let lastSeen;
    let unattributedGhosts = 0;
    for (const inode of last.ghostInodes) {
        if (excluded.has(inode) || !ghostSets.every((set) => set.has(inode)))
            continue;
        // A ghost has left the tables, but an earlier look may still name its peer.
        if (lastSeen === undefined) {
            lastSeen = new Map(options.seen);
            for (const s of [options.baseline, ...samples])
                for (const x of s?.sockets ?? [])
                    lastSeen.set(x.inode, x);
        }
        const seen = lastSeen.get(inode);
        if (options.peer !== undefined && seen === undefined)
            unattributedGhosts++;
        if (options.peer !== undefined && (seen === undefined || !matches(seen)))
            continue;
        add('ghost', seen, inode);
    }
    const list = [...groups.values()].sort((a, b) => b.count - a.count || a.peer.localeCompare(b.peer));
    const counts = { 'close-wait': 0, 'stuck-rx': 0, ghost: 0 };
    for (const g of list)
        counts[g.leakClass] += g.count;
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
export function findLeaks(samples, options = {}) {
    return classify(samples, options, false);
}
/**
 * Everything in one snapshot that could be a leak, including ESTABLISHED sockets with unread
 * bytes: a snapshot with no candidates is certainly clean.
 */
export function leakCandidates(snapshot, options = {}) {
    return classify([snapshot], { ...options, growth: false }, true);
}
