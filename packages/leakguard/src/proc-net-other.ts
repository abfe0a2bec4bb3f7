// Socket inodes of the non-TCP tables in /proc/<pid>/net. A socket fd that appears in none of
// them, nor in tcp/tcp6, is a "ghost"; these tables keep unix and UDP sockets from being
// misreported as ghosts.
import { forEachRow } from './proc-table-fields.ts';

/** Table file name → index of its inode column in data rows (headers don't line up with rows). */
export const OTHER_SOCKET_TABLES: Readonly<Record<string, number>> = {
  unix: 6, // Num RefCount Protocol Flags Type St Inode Path
  udp: 9, // same columns as tcp
  udp6: 9,
  udplite: 9,
  udplite6: 9,
  raw: 9,
  raw6: 9,
  icmp: 9,
  icmp6: 9,
  netlink: 9, // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
  packet: 8, // sk RefCnt Type Proto Iface R Rmem User Inode
};

/** Adds the inodes listed in one table's text to `into`. */
export function collectTableInodes(text: string, inodeField: number, into: Set<number>): void {
  forEachRow(text, inodeField + 1, (f) => {
    const field = f[inodeField];
    if (field === undefined) return;
    const inode = Number(field);
    if (inode > 0) into.add(inode);
  });
}
