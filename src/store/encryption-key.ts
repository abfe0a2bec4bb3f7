// Where the credentials encryption key comes from: configuration when given, else
// <dataDir>/encryption.key, generated once. Losing that file makes stored credentials unreadable,
// so it is never overwritten, and an unreadable or malformed one is an error, not a reason to
// generate a new one.

import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, publishSecretFile, readIfPresent } from './private-files.ts';
import { DEFAULT_KEY_LABEL, KEY_BYTES, type LabelledKey } from './keyring.ts';

export const KEY_FILE_NAME = 'encryption.key';

export interface LoadedEncryptionKey {
  key: Buffer;
  /** 'ephemeral': dataDir ':memory:' without a configured key; the key lives as long as the process. */
  source: 'config' | 'file' | 'generated' | 'ephemeral';
  /** The key file, when one was read or written. */
  path: string | null;
  /** The key file is accessible to group or others; the caller should warn (chmod 600). */
  looseFilePermissions: boolean;
}

/** Parses 64 hex digits or base64 (standard or URL-safe) of 32 bytes. `origin` names the source in errors. */
export function parseEncryptionKey(text: string, origin: string): Buffer {
  const s = text.trim();
  // A 32-byte key in base64 always has '=' padding or an odd length, so it is never mistaken for hex.
  const encoding = /^(?:[0-9a-fA-F]{2})+$/.test(s) ? 'hex' : /^[A-Za-z0-9+/_-]+={0,2}$/.test(s) ? 'base64' : undefined;
  const key = encoding === undefined ? undefined : Buffer.from(s, encoding);
  if (key === undefined || key.length !== KEY_BYTES) {
    // Say what is wrong without echoing the value.
    const got = key === undefined
      ? `${s.length} characters that are neither hex nor base64`
      : `${s.length} ${encoding === 'hex' ? 'hex digits' : 'base64 characters'}, which decode to ${key.length} bytes`;
    throw new Error(
      `the encryption key from ${origin} must be ${KEY_BYTES} bytes, written as 64 hex digits or 44 base64 characters; got ${got}`,
    );
  }
  return key;
}

export function loadEncryptionKey(options: { key?: string; dataDir: string }): LoadedEncryptionKey {
  if (options.key !== undefined) {
    return { key: parseEncryptionKey(options.key, 'configuration'), source: 'config', path: null, looseFilePermissions: false };
  }
  if (options.dataDir === ':memory:') {
    return { key: randomBytes(KEY_BYTES), source: 'ephemeral', path: null, looseFilePermissions: false };
  }
  ensurePrivateDir(options.dataDir);
  const path = join(options.dataDir, KEY_FILE_NAME);
  const existing = readKeyFile(path);
  if (existing !== undefined) return existing;

  const generated = randomBytes(KEY_BYTES);
  if (!publishSecretFile(path, `${generated.toString('base64')}\n`)) {
    // Another process published its key first: use that one, so both agree.
    const theirs = readKeyFile(path);
    if (theirs === undefined) throw new Error(`${path} vanished while it was being created`);
    return theirs;
  }
  return { key: generated, source: 'generated', path, looseFilePermissions: false };
}

export interface ConfiguredKey {
  label: string;
  key: string;
  primary?: boolean;
}

export interface LoadedEncryptionKeys {
  keys: LabelledKey[];
  primary: string;
  /** Set when the key file was generated now (its path), for the caller to log. */
  generated: string | null;
  /** Key files readable by group or others; the caller should warn (chmod 600). */
  looseFiles: string[];
}

/**
 * Every key warren can open values with, by label, and the primary one new values are sealed
 * with. `encryption_key` is the key labelled "default"; the generated key file, when present, is
 * "default" too unless a configured key has that label. The primary is the entry marked
 * `primary: true`, else the first of `encryption_keys`, else "default".
 */
export function loadEncryptionKeys(options: { key?: string; keys?: readonly ConfiguredKey[]; dataDir: string }): LoadedEncryptionKeys {
  const listed = options.keys ?? [];
  if (listed.length === 0) {
    const one = loadEncryptionKey({ key: options.key, dataDir: options.dataDir });
    return {
      keys: [{ label: DEFAULT_KEY_LABEL, key: one.key }],
      primary: DEFAULT_KEY_LABEL,
      generated: one.source === 'generated' ? one.path : null,
      looseFiles: one.looseFilePermissions && one.path ? [one.path] : [],
    };
  }
  const keys: LabelledKey[] = listed.map((k, i) => ({ label: k.label, key: parseEncryptionKey(k.key, `encryption_keys[${i}] (${k.label})`) }));
  const looseFiles: string[] = [];
  if (options.key !== undefined) {
    keys.push({ label: DEFAULT_KEY_LABEL, key: parseEncryptionKey(options.key, 'encryption_key') });
  } else if (options.dataDir !== ':memory:' && !keys.some((k) => k.label === DEFAULT_KEY_LABEL)) {
    // Values sealed with the generated key before labelled keys were configured still open.
    const file = readKeyFile(join(options.dataDir, KEY_FILE_NAME));
    if (file) {
      keys.push({ label: DEFAULT_KEY_LABEL, key: file.key });
      if (file.looseFilePermissions && file.path) looseFiles.push(file.path);
    }
  }
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k.label)) throw new Error(`encryption key label "${k.label}" is used twice (encryption_key is labelled "${DEFAULT_KEY_LABEL}")`);
    seen.add(k.label);
  }
  const marked = listed.filter((k) => k.primary);
  if (marked.length > 1) throw new Error(`encryption_keys: only one key may be primary, got ${marked.map((k) => k.label).join(', ')}`);
  return { keys, primary: (marked[0] ?? listed[0]!).label, generated: null, looseFiles };
}

function readKeyFile(path: string): LoadedEncryptionKey | undefined {
  const text = readIfPresent(path);
  if (text === undefined) return undefined;
  const key = parseEncryptionKey(text, path);
  const looseFilePermissions = process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0;
  return { key, source: 'file', path, looseFilePermissions };
}
