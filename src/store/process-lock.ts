// SQLite keeps warren's state in one file that one process may serve: a second warren on the
// same data dir would run its own locks and both would answer 201 for one instance. The data dir
// holds a lock file naming its holder (pid and the kernel's start time for it, so a pid reused
// after a kill -9 is not taken for the holder); a live holder makes the next process refuse to
// start, a dead one's lock is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE_NAME = 'warren.lock';

interface Holder {
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot); null where /proc is not available. */
  startTicks: string | null;
  startedAt: string;
  host: string;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name in parentheses (which may hold spaces).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(h: Holder): boolean {
  if (h.host !== hostname()) return true; // cannot tell: never steal another host's lock
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const ticks = startTicks(h.pid);
  return h.startTicks === null || ticks === null || ticks === h.startTicks;
}

/** Takes the data dir for this process, or throws DataDirLockedError naming the holder. */
export function lockDataDir(dir: string): { release(): void } {
  const path = join(dir, LOCK_FILE_NAME);
  const me: Holder = { pid: process.pid, startTicks: startTicks(process.pid), startedAt: new Date().toISOString(), host: hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
      return {
        release() {
          try {
            const h = JSON.parse(readFileSync(path, 'utf8')) as Holder;
            if (h.pid === me.pid && h.startTicks === me.startTicks) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    } catch {
      holder = undefined; // half-written or vanished: treat as stale
    }
    if (holder && holder.pid === me.pid && holder.startTicks === me.startTicks && holder.host === me.host) {
      return { release() {} }; // this process holds it already (a second store on the same dir); the first releases
    }
    if (holder && alive(holder)) {
      throw new DataDirLockedError(
        `the data dir ${dir} is in use by another warren process (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}). ` +
          'The SQLite store serves one process; to run several replicas, give them one PostgreSQL store (store.kind: postgres).',
      );
    }
    try {
      unlinkSync(path); // the holder is gone (kill -9, crash): its lock is stale
    } catch {
      // another starter removed it first; try again
    }
  }
  throw new DataDirLockedError(`could not take the lock ${path}; another process keeps replacing it`);
}
