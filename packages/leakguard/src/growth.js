// The growth class: over a window of samples, a count that keeps rising is a leak even when no
// single socket looks wrong (a file opened per call, a new keep-alive pool per request whose
// bodies are all read). Series judged: fds by kind, and TCP sockets per peer, direction and
// state. What is NOT growth, so a healthy process stays quiet:
//  - a stable pool, however large: its count does not rise across the window;
//  - a burst that drains: the last sample sits below the window's peak;
//  - a one-time step (a pool filling up, a cache opening its files): it rises in one half of
//    the window only. Steady growth must rise in both halves.
//  - small drifts: the rise must reach `minIncrease` (default 3) over the window.
//  - sockets moving between states (ESTABLISHED → CLOSE_WAIT as a server times out idle
//    keep-alives): a state's count is growth only if the peer's total grows too.
import { compilePeerFilter } from "./peer-filter.js";
/** Fd kinds whose growth is judged ('other' are namespace handles and the like). */
export const GROWTH_FD_KINDS = ['socket', 'file', 'pipe', 'anon_inode'];
/** The fewest samples that can tell steady growth from a step: one rise in each half. */
export const MIN_GROWTH_SAMPLES = 3;
/**
 * Whether a series grows steadily: it rises by at least `minIncrease`, in both halves of the
 * window, and ends at (or within a quarter of the rise of) its peak.
 */
export function isSteadyGrowth(series, minIncrease = 3) {
    const n = series.length;
    if (n < MIN_GROWTH_SAMPLES)
        return false;
    const first = series[0];
    const last = series[n - 1];
    const increase = last - first;
    if (increase < Math.max(1, minIncrease))
        return false;
    const mid = series[Math.floor((n - 1) / 2)];
    const midLate = series[Math.ceil((n - 1) / 2)];
    if (!(mid > first && last > midLate))
        return false;
    const peak = Math.max(...series);
    return last >= peak - Math.floor(increase / 4);
}
/** Steady growth over snapshots of one process, oldest first; [] with fewer than 3 samples. */
export function findGrowth(samples, options = {}) {
    if (samples.length < MIN_GROWTH_SAMPLES)
        return [];
    const first = samples[0];
    const last = samples[samples.length - 1];
    const spanMs = Math.max(1, last.timestamp - first.timestamp);
    const minIncrease = options.minIncrease ?? 3;
    const matches = compilePeerFilter(options.peer);
    const findings = [];
    const judge = (subject, series) => {
        if (!isSteadyGrowth(series, minIncrease))
            return;
        const a = series[0];
        const b = series[series.length - 1];
        findings.push({ subject, series, first: a, last: b, increase: b - a, spanMs, perSecond: ((b - a) * 1000) / spanMs });
    };
    if (samples.every((s) => s.fds !== null)) {
        for (const fdKind of GROWTH_FD_KINDS)
            judge({ kind: 'fds', fdKind }, samples.map((s) => s.fds[fdKind]));
    }
    const peers = new Map();
    samples.forEach((s, i) => {
        for (const socket of s.sockets) {
            if (socket.state === 'TIME_WAIT' || !matches(socket))
                continue;
            const key = `${socket.peer} ${socket.direction}`;
            let p = peers.get(key);
            if (p === undefined) {
                p = { peer: socket.peer, direction: socket.direction, total: new Array(samples.length).fill(0), states: new Map() };
                peers.set(key, p);
            }
            let series = p.states.get(socket.state);
            if (series === undefined)
                p.states.set(socket.state, (series = new Array(samples.length).fill(0)));
            p.total[i]++;
            series[i]++;
        }
    });
    for (const p of peers.values()) {
        if (!isSteadyGrowth(p.total, minIncrease))
            continue; // states trading sockets is not growth
        const before = findings.length;
        for (const [state, series] of p.states)
            judge({ kind: 'sockets', peer: p.peer, direction: p.direction, state }, series);
        if (findings.length === before)
            judge({ kind: 'sockets', peer: p.peer, direction: p.direction }, p.total);
    }
    return findings.sort((x, y) => y.perSecond - x.perSecond);
}
/** "file fds" / "ESTABLISHED sockets to 127.0.0.1:15672". */
export function describeGrowthSubject(subject) {
    if (subject.kind === 'fds')
        return `${subject.fdKind} fds`;
    const where = subject.direction === 'out' ? 'to' : subject.direction === 'in' ? 'accepted on' : 'listening on';
    return `${subject.state === undefined ? '' : `${subject.state} `}sockets ${where} ${subject.peer}`;
}
/** "growth: file fds 12 → 112 over 5.0 s (+20.0/s)". */
export function describeGrowth(finding) {
    const rate = finding.perSecond >= 10 ? finding.perSecond.toFixed(0) : finding.perSecond.toFixed(1);
    return `growth: ${describeGrowthSubject(finding.subject)} ${finding.first} → ${finding.last} over ${(finding.spanMs / 1000).toFixed(1)} s (+${rate}/s)`;
}
