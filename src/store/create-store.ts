// Picks the Store implementation from configuration. The store is returned unopened: call open().

import { PostgresStore } from './postgres-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Keyring } from './keyring.ts';
import type { Store } from './store.ts';

export type StoreConfig =
  /** exclusive: false for tools beside a running server (see SqliteStoreOptions). */
  | { kind: 'sqlite'; dataDir: string; exclusive?: boolean }
  | { kind: 'postgres'; url: string };

/** `key`: the 32-byte credentials encryption key, from loadEncryptionKey(). */
export function createStore(config: StoreConfig, key: Buffer | Keyring): Store {
  switch (config.kind) {
    case 'sqlite':
      return new SqliteStore({ dataDir: config.dataDir, key, ...(config.exclusive === false ? { exclusive: false } : {}) });
    case 'postgres':
      return new PostgresStore({ url: config.url, key });
  }
}
