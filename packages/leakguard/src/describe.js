export function formatBytes(bytes) {
    if (bytes < 1024)
        return `${bytes} B`;
    if (bytes < 1024 * 1024)
        return `${(bytes / 1024).toFixed(1)} KiB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
/** "to 127.0.0.1:5672" / "accepted on 127.0.0.1:8080" / "peer unknown". */
export function describePeer(peer, direction) {
    if (direction === 'out')
        return `to ${peer}`;
    if (direction === 'in')
        return `accepted on ${peer}`;
    if (direction === 'listen')
        return `listening on ${peer}`;
    return 'peer unknown';
}
/** "150 close-wait sockets to 127.0.0.1:5672 (9.4 MiB unread)". */
export function describeLeakGroup(group) {
    const noun = group.leakClass === 'ghost' ? (group.count === 1 ? 'socket fd' : 'socket fds') : group.count === 1 ? 'socket' : 'sockets';
    const unread = group.rxBytes > 0 ? ` (${formatBytes(group.rxBytes)} unread)` : '';
    return `${group.count} ${group.leakClass} ${noun} ${describePeer(group.peer, group.direction)}${unread}`;
}
/** "close-wait 150, stuck-rx 50, growth 2" (classes with a count only). */
export function describeCounts(report) {
    const parts = Object.entries(report.counts)
        .filter(([, n]) => n > 0)
        .map(([c, n]) => `${c} ${n}`);
    if (report.growth.length > 0)
        parts.push(`growth ${report.growth.length}`);
    return parts.length === 0 ? 'none' : parts.join(', ');
}
/** "+200 (socket +199, pipe +1)". */
export function describeFdGrowth(diff) {
    if (diff.fds === null)
        return 'unknown';
    const { total, ...kinds } = diff.fds;
    const parts = Object.entries(kinds)
        .filter(([, c]) => c.delta !== 0)
        .map(([k, c]) => `${k} ${c.delta > 0 ? '+' : ''}${c.delta}`);
    const sign = total.delta > 0 ? '+' : '';
    return parts.length === 0 ? `${sign}${total.delta}` : `${sign}${total.delta} (${parts.join(', ')})`;
}
