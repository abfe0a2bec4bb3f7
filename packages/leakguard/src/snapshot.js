// One look at a process: its fds by kind, its fd limit, and its TCP sockets (joined to it by
// inode), plus socket fds that no /proc/net table knows ("ghosts").
import { readFileSync } from 'node:fs';
import { formatEndpoint } from "./inet-address.js";
import { OTHER_SOCKET_TABLES, collectTableInodes } from "./proc-net-other.js";
import { parseProcNetTcp } from "./proc-net-tcp.js";
import { readProcFdLinks, tallyFdLinks } from "./proc-fds.js";
import { parseNofileLimits } from "./proc-limits.js";
export function resolvePid(pid) {
    if (pid === undefined || pid === 'self')
        return process.pid;
    if (!Number.isInteger(pid) || pid <= 0)
        throw new RangeError(`not a pid: ${String(pid)}`);
    return pid;
}
function listenerKeys(rows) {
    const keys = new Set();
    for (const row of rows) {
        if (row.state !== 'LISTEN')
            continue;
        const wildcard = row.localAddress === '0.0.0.0' || row.localAddress === '::';
        keys.add(wildcard ? `*|${row.localPort}` : `${row.localAddress}|${row.localPort}`);
    }
    return keys;
}
function toSocketInfo(row, listeners) {
    const local = formatEndpoint(row.localAddress, row.localPort);
    const remote = formatEndpoint(row.remoteAddress, row.remotePort);
    let direction = 'out';
    if (row.state === 'LISTEN')
        direction = 'listen';
    else if (listeners.has(`${row.localAddress}|${row.localPort}`) || listeners.has(`*|${row.localPort}`))
        direction = 'in';
    return {
        inode: row.inode,
        proto: row.proto,
        state: row.state,
        local,
        remote,
        localPort: row.localPort,
        remotePort: row.remotePort,
        txQueue: row.txQueue,
        rxQueue: row.rxQueue,
        direction,
        peer: direction === 'out' ? remote : local,
    };
}
/** The ghost classifier: socket fd inodes that no table lists. */
export function findGhostInodes(fdSocketInodes, tableInodes) {
    const ghosts = [];
    for (const inode of fdSocketInodes)
        if (!tableInodes.has(inode))
            ghosts.push(inode);
    return ghosts;
}
/** Builds a snapshot from raw texts; pure, so recorded or synthetic inputs can be tested. */
export function snapshotFromTexts(pid, timestamp, texts) {
    const limits = texts.limits === undefined ? null : parseNofileLimits(texts.limits);
    if (texts.fdLinks === 'denied') {
        return { timestamp, pid, fdAccess: 'denied', fds: null, limits, sockets: [], ghostInodes: [] };
    }
    const { counts, socketInodes } = tallyFdLinks(texts.fdLinks);
    const owned = new Set(socketInodes);
    const rows = [
        ...parseProcNetTcp(texts.tcp ?? '', 'tcp', { inodes: owned }),
        ...parseProcNetTcp(texts.tcp6 ?? '', 'tcp6', { inodes: owned }),
    ];
    const listeners = listenerKeys(rows);
    const known = new Set();
    const sockets = [];
    for (const row of rows) {
        if (!owned.has(row.inode))
            continue; // another process's listener, kept only for `listeners`
        known.add(row.inode);
        sockets.push(toSocketInfo(row, listeners));
    }
    for (const [name, text] of Object.entries(texts.other ?? {})) {
        const field = OTHER_SOCKET_TABLES[name];
        if (field !== undefined)
            collectTableInodes(text, field, known);
    }
    return {
        timestamp,
        pid,
        fdAccess: 'ok',
        fds: counts,
        limits,
        sockets,
        ghostInodes: findGhostInodes(owned, known),
    };
}
function readOptional(path) {
    try {
        return readFileSync(path, 'latin1');
    }
    catch {
        return ''; // e.g. no tcp6 when IPv6 is disabled
    }
}
/**
 * Takes a snapshot of a process (default: this one). Synchronous and cheap (a few ms for a
 * few hundred fds). Throws NoSuchProcessError if the process does not exist.
 */
export function takeSnapshot(pid) {
    const target = resolvePid(pid);
    const timestamp = Date.now();
    // fds first: a socket closed between the two reads then looks like a ghost for one sample
    // only, and leak classes require persistence across samples.
    const fdLinks = readProcFdLinks(target);
    const limits = readOptional(`/proc/${target}/limits`);
    if (fdLinks === 'denied')
        return snapshotFromTexts(target, timestamp, { fdLinks, limits });
    const net = `/proc/${target}/net`;
    const other = {};
    for (const name of Object.keys(OTHER_SOCKET_TABLES))
        other[name] = readOptional(`${net}/${name}`);
    return snapshotFromTexts(target, timestamp, {
        fdLinks,
        limits,
        tcp: readOptional(`${net}/tcp`),
        tcp6: readOptional(`${net}/tcp6`),
        other,
    });
}
