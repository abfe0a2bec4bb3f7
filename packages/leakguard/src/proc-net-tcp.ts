// Parser for /proc/<pid>/net/tcp and tcp6 (same layout, different address width).
import { decodeProcAddress } from './inet-address.ts';
import { forEachRow } from './proc-table-fields.ts';
import { tcpStateFromHex, type TcpState } from './tcp-states.ts';

export type TcpProto = 'tcp' | 'tcp6';

export interface TcpRow {
  proto: TcpProto;
  state: TcpState;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Bytes sent and not yet acknowledged (LISTEN: the accept backlog limit). */
  txQueue: number;
  /** Bytes received and not yet read by the process (LISTEN: connections waiting for accept). */
  rxQueue: number;
  uid: number;
  /** Socket inode; 0 for TIME_WAIT and orphaned sockets, which belong to no process. */
  inode: number;
}

export interface TcpParseOptions {
  /** Keep only rows whose inode is in this set (LISTEN rows are always kept). */
  inodes?: ReadonlySet<number>;
}

// Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
const INODE_FIELD = 9;

/** Every row of one tcp table (or the rows of `options.inodes`, plus listeners). */
export function parseProcNetTcp(text: string, proto: TcpProto, options: TcpParseOptions = {}): TcpRow[] {
  const rows: TcpRow[] = [];
  const only = options.inodes;
  forEachRow(text, INODE_FIELD + 1, (f) => {
    if (f.length <= INODE_FIELD) return;
    const stateHex = f[3] as string;
    const inode = Number(f[INODE_FIELD]);
    // Filter before decoding addresses: most rows of a busy host belong to other processes.
    if (only !== undefined && !only.has(inode) && stateHex !== '0A') return;
    const local = f[1] as string;
    const remote = f[2] as string;
    const queues = f[4] as string;
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
