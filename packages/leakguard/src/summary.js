// Socket counts of one snapshot by state and by peer, for reports and the CLI table.
import { compilePeerFilter } from "./peer-filter.js";
export function summarizeSockets(snapshot, peer) {
    const matches = compilePeerFilter(peer);
    const byState = {};
    const peers = new Map();
    let total = 0;
    for (const s of snapshot.sockets) {
        if (s.state === 'TIME_WAIT' || !matches(s))
            continue;
        total++;
        byState[s.state] = (byState[s.state] ?? 0) + 1;
        const key = `${s.peer} ${s.direction}`;
        let entry = peers.get(key);
        if (entry === undefined) {
            entry = { peer: s.peer, direction: s.direction, total: 0, states: {}, rxBytes: 0, txBytes: 0 };
            peers.set(key, entry);
        }
        entry.total++;
        entry.states[s.state] = (entry.states[s.state] ?? 0) + 1;
        if (s.state !== 'LISTEN') {
            // A listener's queues are its accept backlog (waiting, limit), not bytes.
            entry.rxBytes += s.rxQueue;
            entry.txBytes += s.txQueue;
        }
    }
    const byPeer = [...peers.values()].sort((a, b) => b.total - a.total || a.peer.localeCompare(b.peer));
    return { total, byState, byPeer };
}
