// What a configuration reload (SIGHUP, or the configuration file changing) replaces in a running
// warren: the platform's basic-auth account, the RabbitMQ administrator account and the
// credentials encryption keys. Everything else needs a restart, and a reload says so.
import type { WarrenConfig } from '../config/config-types.ts';
import { Keyring } from '../store/keyring.ts';
import type { LoadedEncryptionKeys } from '../store/encryption-key.ts';

export interface Account {
  username: string;
  password: string;
}

export interface ReloadOutcome {
  /** Settings replaced: 'auth', 'rabbitmq.administrator', 'encryption keys'. */
  applied: string[];
  /** Top-level keys that changed but take effect only after a restart. */
  needsRestart: string[];
}

const RELOADABLE = new Set(['auth', 'encryption_key', 'encryption_keys']);

/** The configuration without what a reload applies, one JSON text per top-level key. */
function restartOnly(c: WarrenConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(c)) {
    if (RELOADABLE.has(k)) continue;
    out.set(k, JSON.stringify(k === 'rabbitmq' ? { ...c.rabbitmq, administrator: undefined } : v));
  }
  return out;
}

export class LiveSettings {
  /** Replaced whole on change, so readers can compare by identity. */
  brokerAuth: Account;
  admin: Account;
  readonly keyring: Keyring;
  #config: WarrenConfig;

  constructor(config: WarrenConfig, keys: LoadedEncryptionKeys) {
    this.#config = config;
    this.brokerAuth = { ...config.auth };
    this.admin = { ...config.rabbitmq.administrator };
    this.keyring = new Keyring(keys.keys, keys.primary);
  }

  /** Applies what can change while running; validates everything before changing anything. */
  apply(next: WarrenConfig, keys: LoadedEncryptionKeys): ReloadOutcome {
    const ring = new Keyring(keys.keys, keys.primary); // throws on a bad set, before anything changed
    const applied: string[] = [];
    const same = (a: Account, b: Account) => a.username === b.username && a.password === b.password;
    if (!same(this.brokerAuth, next.auth)) {
      this.brokerAuth = { ...next.auth };
      applied.push('auth');
    }
    if (!same(this.admin, next.rabbitmq.administrator)) {
      this.admin = { ...next.rabbitmq.administrator };
      applied.push('rabbitmq.administrator');
    }
    const fingerprint = (r: Keyring) => `${r.primaryLabel}|${r.labels.map((l) => `${l}:${r.byLabel(l)!.toString('base64')}`).join(',')}`;
    if (fingerprint(ring) !== fingerprint(this.keyring)) {
      this.keyring.replace(keys.keys, keys.primary);
      applied.push('encryption keys');
    }
    const before = restartOnly(this.#config);
    const after = restartOnly(next);
    const needsRestart = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
    this.#config = { ...this.#config, auth: next.auth, encryption_key: next.encryption_key, encryption_keys: next.encryption_keys, rabbitmq: { ...this.#config.rabbitmq, administrator: next.rabbitmq.administrator } };
    return { applied, needsRestart };
  }
}
