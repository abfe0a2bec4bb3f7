// `warren rotate-keys`: re-encrypts every stored binding's credentials with the primary key,
// beside a running warren (batched compare-and-set writes; see src/store/reencrypt.ts). Run it
// after the running server has loaded the new primary (SIGHUP or its configuration file changing),
// then drop the old keys from the configuration once a second run finds nothing to do.
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { createStore } from '../store/create-store.ts';
import { loadEncryptionKeys } from '../store/encryption-key.ts';
import { Keyring } from '../store/keyring.ts';

export interface RotateKeysOptions {
  configFile?: string;
  /** Rows per batch; default 100. */
  batchSize?: number;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/** Exit status: 0 when every record is sealed with the primary key, 1 when some could not be opened, 2 on bad configuration. */
export async function rotateKeys(opts: RotateKeysOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  let keyring: Keyring;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ file: opts.configFile });
    const keys = loadEncryptionKeys({ key: config.encryption_key, keys: config.encryption_keys, dataDir: config.data_dir });
    if (keys.generated) {
      err.write(`warren rotate-keys: no encryption key was configured or stored in ${config.data_dir}; nothing to rotate\n`);
      return 2;
    }
    keyring = new Keyring(keys.keys, keys.primary);
  } catch (e) {
    err.write(`warren rotate-keys: ${(e as Error).message}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
  // Beside the running server: do not take the SQLite data dir's process lock.
  const store = createStore(config.store.kind === 'postgres' ? config.store : { kind: 'sqlite', dataDir: config.data_dir, exclusive: false }, keyring);
  await store.open();
  try {
    out.write(`re-encrypting stored credentials with the key "${keyring.primaryLabel}" (keys known: ${keyring.labels.join(', ')})\n`);
    const result = await store.reencryptCredentials({
      batchSize: opts.batchSize,
      onBatch: (p) => out.write(`  ${p.reencrypted} re-encrypted so far\n`),
    });
    out.write(`done: ${result.reencrypted} re-encrypted, ${result.skipped} changed meanwhile by the server (already current), ${result.failed.length} unreadable\n`);
    for (const f of result.failed) err.write(`  binding ${f.bindingId}: ${f.reason}\n`);
    return result.failed.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}
