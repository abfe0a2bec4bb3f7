// The password platforms use to call warren. When none is configured, one is generated once
// into the data directory (mode 0600) so a first start works; its path is logged, never its value.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';

export const PASSWORD_FILE = 'broker-password';

function readStored(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const password = text.trim();
  // An empty file must never mean "no password": refuse to start instead.
  if (!password) throw new ConfigError(`${file} is empty: delete it to generate a new broker password, or set WARREN_PASSWORD`);
  return password;
}

export function resolveBrokerPassword(configured: string | undefined, dataDir: string): { password: string; file?: string } {
  if (configured) return { password: configured };
  const file = join(dataDir, PASSWORD_FILE);
  const stored = readStored(file);
  if (stored) return { password: stored, file };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  // Written whole to a temporary file, then linked into place: the password file is never seen
  // half-written, and if another process published one first, theirs is used.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, password + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { password: readStored(file)!, file };
  } finally {
    unlinkSync(tmp);
  }
  return { password, file };
}
