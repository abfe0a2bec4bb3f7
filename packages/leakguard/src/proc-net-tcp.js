// Parser for /proc/<pid>/net/tcp and tcp6 (same layout, different address width).
import { decodeProcAddress } from "./inet-address.js";
import { forEachRow } from "./proc-table-fields.js";
import { tcpStateFromHex } from "./tcp-states.js";
// Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
const INODE_FIELD = 9;
/** Every row of one tcp table (or the rows of `options.inodes`, plus listeners). */
export function parseProcNetTcp(text, proto, options = {}) {
    const rows = [];
    const only = options.inodes;
    forEachRow(text, INODE_FIELD + 1, (f) => {
        if (f.length <= INODE_FIELD)
            return;
        const stateHex = f[3];
        const inode = Number(f[INODE_FIELD]);
        // Filter before decoding addresses: most rows of a busy host belong to other processes.
        if (only !== undefined && !only.has(inode) && stateHex !== '0A')
            return;
        const local = f[1];
        const remote = f[2];
        const queues = f[4];
        const localColon = local.indexOf(':');
        const remoteColon = remote.indexOf(':');
        const queueColon = queues.indexOf(':');
        rows.push({
            proto,
            state: tcpStateFromHex(stateHex),
            localAddress: decodeProcAddress(local.slice(0, localColon)),
            localPort: parseInt(local.slice(localColon + 1), 16),
            remoteAddress: decodeProcAddress(remote.slice(0, remoteColon)),
            remotePort: parseInt(remote.slice(remoteColon + 1), 16),
            txQueue: parseInt(queues.slice(0, queueColon), 16),
            rxQueue: parseInt(queues.slice(queueColon + 1), 16),
            uid: Number(f[7]),
            inode,
        });
    });
    return rows;
}
