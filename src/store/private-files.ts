// Everything warren writes under data_dir (SQLite database, its WAL and SHM, generated key and
// password files) is for warren's eyes only: files 0600 in a 0700 directory, whatever the umask.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

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
  let s: ReturnType<typeof statSync>;
  try {
    s = statSync(path);
  } catch {
    return;
  }
  if ((s.mode & 0o077) !== 0 && ownedByUs(s.uid)) chmodSync(path, 0o600);
}

/** The file's text, or undefined when there is no such file; any other failure is thrown. */
export function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes the whole text to a new file, exclusive (O_EXCL), 0600, and makes it durable. */
function writeNewFile(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a new directory entry durable; best effort (not every platform can fsync a directory). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // A platform that cannot open or fsync a directory: the file itself is already synced.
  }
}

/**
 * Publishes a generated secret (key, password) at `path`, never replacing one that is there:
 * written whole to a private temporary file (exclusive create, 0600, fsync), then linked into
 * place, so no reader sees it half-written. Returns false when the path already exists
 * (another process won the race): the caller reads and uses that one.
 */
export function publishSecretFile(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeNewFile(tmp, text);
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // A file system without hard links: create the file itself exclusively, which still never
    // replaces another process's secret (a reader may then briefly see it incomplete).
    try {
      writeNewFile(path, text);
    } catch (createErr) {
      if ((createErr as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw createErr;
    }
  } finally {
    unlinkSync(tmp);
  }
  syncDirectory(dirname(path));
  return true;
}
