// Everything warren writes under data_dir (SQLite database, its WAL and SHM, generated key and
// password files) is for warren's eyes only: files 0600 in a 0700 directory, whatever the umask.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

const ownedByUs = (uid: number): boolean => process.getuid === undefined || process.getuid() === uid;

/** Creates the directory 0700, or tightens an existing one of ours that group or others can enter. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const s = statSync(dir);
  if ((s.mode & 0o077) !== 0 && ownedByUs(s.uid)) chmodSync(dir, 0o700);
}

/**
 * Creates the file empty with mode 0600 if it is missing (SQLite then creates its WAL and SHM
 * files with the database file's mode), and tightens an existing one of ours.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  tightenIfPresent(path);
}

export function tightenIfPresent(path: string): void {
  let s: import("node:fs").Stats;
  try {
    s = statSync(path);
  } catch {
    return;
  }
  if ((s.mode & 0o077) !== 0 && ownedByUs(s.uid)) chmodSync(path, 0o600);
}
