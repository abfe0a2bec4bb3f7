// This process's TCP sockets, read from /proc (a local helper on purpose: the reusable leak
// module lives elsewhere). /proc/self/net/tcp* lists the whole network namespace, so rows are
// kept only when their inode is one of our own fds.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN',
  '0B': 'CLOSING', '0C': 'NEW_SYN_RECV',
};

export interface OwnSocket {
  localPort: number;
  remotePort: number;
  state: string;
  /** Bytes received but not read by us: non-zero and stuck means an unread body. */
  rxQueue: number;
  inode: number;
}

export function ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1]) inodes.add(Number(m[1]));
    } catch {
      // fd closed between readdir and readlink
    }
  }
  return inodes;
}

export function ownTcpSockets(): OwnSocket[] {
  const mine = ownSocketInodes();
  const out: OwnSocket[] = [];
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 in this namespace
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const inode = Number(f[9]);
      if (!mine.has(inode)) continue;
      const [, localPort = ''] = (f[1] ?? '').split(':');
      const [, remotePort = ''] = (f[2] ?? '').split(':');
      const [, rx = '0'] = (f[4] ?? '').split(':');
      out.push({
        localPort: parseInt(localPort, 16),
        remotePort: parseInt(remotePort, 16),
        state: STATES[f[3] ?? ''] ?? `?${f[3]}`,
        rxQueue: parseInt(rx, 16),
        inode,
      });
    }
  }
  return out;
}

/** Our client-side sockets to a server port (excludes listeners). */
export function socketsTo(port: number): OwnSocket[] {
  return ownTcpSockets().filter((s) => s.remotePort === port && s.state !== 'LISTEN');
}

export function closeWait(): OwnSocket[] {
  return ownTcpSockets().filter((s) => s.state === 'CLOSE_WAIT');
}

/** Polls until `check` passes: sockets settle a few ms after the last response. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
