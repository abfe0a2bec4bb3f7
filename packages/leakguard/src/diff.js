// What changed between two snapshots of one process: fds by kind, and sockets that appeared or
// went away, grouped by peer and state. A socket that changed state counts as gone in its old
// state and new in its new one (ESTABLISHED → CLOSE_WAIT shows up as both).
import { FD_KINDS } from "./proc-fds.js";
import { compilePeerFilter } from "./peer-filter.js";
function change(before, after) {
    return { before, after, delta: after - before };
}
function keyed(sockets, matches) {
    const map = new Map();
    for (const s of sockets)
        if (s.state !== 'TIME_WAIT' && matches(s))
            map.set(`${s.inode} ${s.state}`, s);
    return map;
}
function grouped(only, other) {
    const groups = new Map();
    for (const [key, s] of only) {
        if (other.has(key))
            continue;
        const groupKey = `${s.peer} ${s.direction} ${s.state}`;
        const group = groups.get(groupKey) ?? { peer: s.peer, direction: s.direction, state: s.state, count: 0 };
        group.count++;
        groups.set(groupKey, group);
    }
    return [...groups.values()].sort((a, b) => b.count - a.count || a.peer.localeCompare(b.peer));
}
export function diffSnapshots(before, after, options = {}) {
    const matches = compilePeerFilter(options.peer);
    let fds = null;
    if (before.fds !== null && after.fds !== null) {
        const b = before.fds;
        const a = after.fds;
        const kinds = Object.fromEntries(FD_KINDS.map((k) => [k, change(b[k], a[k])]));
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
