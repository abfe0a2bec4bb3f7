// The password platforms use to call warren. When none is configured, one is generated once
// into the data directory (mode 0600) so a first start works; its path is logged, never its value.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDir, publishSecretFile, readIfPresent } from '../store/private-files.ts';
import { ConfigError } from './config-error.ts';

export const PASSWORD_FILE = 'broker-password';

function readStored(file: string): string | undefined {
  const text = readIfPresent(file);
  if (text === undefined) return undefined;
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
  ensurePrivateDir(dataDir);
  const password = randomBytes(24).toString('base64url');
  if (publishSecretFile(file, `${password}\n`)) return { password, file };
  // Another process published one first: use theirs, so both agree.
  const theirs = readStored(file);
  if (theirs === undefined) throw new ConfigError(`${file} vanished while it was being created`);
  return { password: theirs, file };
}
