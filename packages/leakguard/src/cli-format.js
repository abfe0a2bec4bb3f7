// Text rendering for `warren leaks`: the full table for one judgement, one line per watch sample.
import { describeCounts, describeLeakGroup, describePeer, formatBytes } from "./describe.js";
import { describeGrowth, describeGrowthSubject } from "./growth.js";
import { FD_KINDS } from "./proc-fds.js";
const MAX_PEER_ROWS = 15;
// Column order for the by-peer table: the states that matter most for leaks first.
const STATE_ORDER = ['ESTABLISHED', 'CLOSE_WAIT', 'LISTEN', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'LAST_ACK', 'CLOSING', 'CLOSE'];
function table(rows, rightAligned) {
    const widths = [];
    for (const row of rows)
        row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
    return rows.map((row) => row
        .map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd());
}
function limitText(snapshot) {
    const { fds, limits } = snapshot;
    if (limits === null)
        return 'limit unknown';
    if (limits.soft === 'unlimited')
        return `soft limit unlimited (hard ${limits.hard})`;
    const share = fds === null ? '' : `, ${((fds.total / limits.soft) * 100).toFixed(1)}% used`;
    return `soft limit ${limits.soft} (hard ${limits.hard})${share}`;
}
export function fdLine(snapshot) {
    if (snapshot.fds === null)
        return 'fds: unknown (permission denied)';
    return `fds: ${snapshot.fds.total} open, ${limitText(snapshot)}`;
}
export function renderReport(header, snapshot, sockets, report) {
    const out = [header, fdLine(snapshot)];
    const fds = snapshot.fds;
    if (fds !== null)
        out.push('  ' + FD_KINDS.map((k) => `${k} ${fds[k]}`).join('   '));
    out.push(`tcp sockets: ${sockets.total}`);
    const states = orderedStates(sockets.byState);
    if (states.length > 0)
        out.push('  by state: ' + states.map((s) => `${s} ${sockets.byState[s]}`).join(', '));
    if (sockets.byPeer.length > 0) {
        out.push('  by peer:');
        const rows = [['PEER', 'DIR', 'TOTAL', ...states, 'UNREAD']];
        for (const p of sockets.byPeer.slice(0, MAX_PEER_ROWS)) {
            rows.push([p.peer, p.direction, String(p.total), ...states.map((s) => String(p.states[s] ?? 0)), formatBytes(p.rxBytes)]);
        }
        out.push(...table(rows, (i) => i >= 2).map((line) => `    ${line}`));
        const hidden = sockets.byPeer.length - MAX_PEER_ROWS;
        if (hidden > 0)
            out.push(`    … ${hidden} more peers`);
    }
    const notJudged = [
        ...(report.stuckRxJudged ? [] : ['stuck-rx needs --samples 2 or more']),
        ...(report.growthJudged ? [] : ['growth needs --samples 3 or more']),
    ];
    const judged = notJudged.length === 0 ? '' : ` (not judged: ${notJudged.join('; ')})`;
    out.push(`leaks: ${report.ok ? 'none' : describeCounts(report)}${judged}`);
    for (const g of report.groups)
        out.push(`  ${describeLeakGroup(g)}`);
    for (const g of report.growth)
        out.push(`  ${describeGrowth(g)}`);
    if (report.unattributedGhosts > 0) {
        out.push(`  note: ${report.unattributedGhosts} ghost socket fds of unknown peer are not counted under --port`);
    }
    return out.join('\n') + '\n';
}
function orderedStates(byState) {
    const states = STATE_ORDER.filter((s) => (byState[s] ?? 0) > 0);
    for (const s of Object.keys(byState))
        if (!states.includes(s))
            states.push(s);
    return states;
}
/** One watch line: "12:00:01 fds 219/20000 socket 202 | tcp ESTABLISHED 74 CLOSE_WAIT 126 | leaks close-wait 126, stuck-rx 74 to 127.0.0.1:8080". */
export function renderWatchLine(snapshot, sockets, report) {
    const time = new Date(snapshot.timestamp).toISOString().slice(11, 19);
    const limit = snapshot.limits?.soft ?? '?';
    const fds = snapshot.fds === null ? 'fds ?' : `fds ${snapshot.fds.total}/${limit} socket ${snapshot.fds.socket}`;
    const states = orderedStates(sockets.byState)
        .map((s) => `${s} ${sockets.byState[s]}`)
        .join(' ');
    let leaks = describeCounts(report);
    const peers = [...new Set(report.groups.map((g) => describePeer(g.peer, g.direction)))];
    if (peers.length > 0)
        leaks += ` ${peers.slice(0, 2).join(', ')}${peers.length > 2 ? ` and ${peers.length - 2} more` : ''}`;
    const growing = report.growth.slice(0, 2).map((g) => `${describeGrowthSubject(g.subject)} +${g.perSecond.toFixed(1)}/s`);
    if (growing.length > 0)
        leaks += ` (growing: ${growing.join(', ')}${report.growth.length > 2 ? ` and ${report.growth.length - 2} more` : ''})`;
    if (!report.stuckRxJudged)
        leaks += ' (stuck-rx judged from the next sample)';
    return `${time} ${fds} | tcp ${states || 'none'} | leaks ${leaks}\n`;
}
