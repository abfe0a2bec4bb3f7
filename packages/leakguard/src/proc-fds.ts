// The open file descriptors of a process, from the links in /proc/<pid>/fd.
import { readdirSync, readlinkSync } from 'node:fs';

export type FdKind = 'socket' | 'pipe' | 'file' | 'anon_inode' | 'other';
export const FD_KINDS: readonly FdKind[] = ['socket', 'pipe', 'file', 'anon_inode', 'other'];

export type FdCounts = Record<FdKind, number> & { total: number };

export interface FdTable {
  /** 'denied' when /proc/<pid>/fd is unreadable (another user's process): counts are unknown, not 0. */
  access: 'ok' | 'denied';
  counts: FdCounts | null;
  /** Inodes of the `socket:[inode]` links. */
  socketInodes: number[];
}

export function emptyFdCounts(): FdCounts {
  return { socket: 0, pipe: 0, file: 0, anon_inode: 0, other: 0, total: 0 };
}

/** Kind of one fd link target, and the inode of a socket. */
export function classifyFdLink(target: string): { kind: FdKind; inode?: number } {
  if (target.startsWith('socket:[')) return { kind: 'socket', inode: Number(target.slice(8, -1)) };
  if (target.startsWith('pipe:[')) return { kind: 'pipe' };
  if (target.startsWith('anon_inode:')) return { kind: 'anon_inode' };
  if (target.startsWith('/')) return { kind: 'file' };
  return { kind: 'other' }; // net:[…], mnt:[…] and other namespace or special handles
}

/** Counts and socket inodes for a list of link targets (pure, for tests and recorded data). */
export function tallyFdLinks(targets: Iterable<string>): { counts: FdCounts; socketInodes: number[] } {
  const counts = emptyFdCounts();
  const socketInodes: number[] = [];
  for (const target of targets) {
    const { kind, inode } = classifyFdLink(target);
    counts[kind]++;
    counts.total++;
    if (inode !== undefined && inode > 0) socketInodes.push(inode);
  }
  return { counts, socketInodes };
}

export class NoSuchProcessError extends Error {
  constructor(readonly pid: number) {
    super(`no such process: ${pid} (/proc/${pid} does not exist)`);
    this.name = 'NoSuchProcessError';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Link targets of /proc/<pid>/fd/*, or 'denied'. Throws NoSuchProcessError if the process is gone. */
export function readProcFdLinks(pid: number): string[] | 'denied' {
  const dir = `/proc/${pid}/fd`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EACCES' || code === 'EPERM') return 'denied';
    if (code === 'ENOENT') throw new NoSuchProcessError(pid);
    throw error;
  }
  const targets: string[] = [];
  for (const name of names) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/${name}`);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') continue; // closed since the listing (e.g. the listing's own fd)
      if (code === 'EACCES' || code === 'EPERM') return 'denied';
      throw error;
    }
    if (target === dir) continue; // our own directory handle, when inspecting ourselves
    targets.push(target);
  }
  return targets;
}

/** Reads and tallies /proc/<pid>/fd. */
export function readProcFds(pid: number): FdTable {
  const links = readProcFdLinks(pid);
  if (links === 'denied') return { access: 'denied', counts: null, socketInodes: [] };
  return { access: 'ok', ...tallyFdLinks(links) };
}
