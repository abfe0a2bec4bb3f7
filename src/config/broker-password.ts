// The password platforms use to call warren. When none is configured, one is generated once
// into the data directory (mode 0600) so a first start works; its path is logged, never its value.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PASSWORD_FILE = 'broker-password';

export function resolveBrokerPassword(configured: string | undefined, dataDir: string): { password: string; file?: string } {
  if (configured) return { password: configured };
  const file = join(dataDir, PASSWORD_FILE);
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored) return { password: stored, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  try {
    writeFileSync(file, password + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { password: readFileSync(file, 'utf8').trim(), file };
    throw err;
  }
  return { password, file };
}
