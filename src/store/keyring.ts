// The credentials encryption keys, by label. One is the primary: new values are sealed with it.
// The others only open values sealed before a rotation. Replaceable while the process runs (a
// configuration reload), so a new primary takes effect without a restart.

import { createHmac } from 'node:crypto';

export const KEY_BYTES = 32;
/** The label of a single `encryption_key` (or the generated key file). */
export const DEFAULT_KEY_LABEL = 'default';
export const LABEL_RULE = /^[A-Za-z0-9._-]{1,64}$/;

export interface LabelledKey {
  label: string;
  key: Buffer;
}

/**
 * The short public name v1 values carry: a keyed hash, so it identifies the key without
 * revealing anything usable about it.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('warren secret-box key id').digest('hex').slice(0, 8);
}

function checkKey(k: LabelledKey): void {
  if (!LABEL_RULE.test(k.label)) throw new RangeError(`encryption key label ${JSON.stringify(k.label)} must be 1-64 characters from A-Z a-z 0-9 . _ -`);
  if (k.key.length !== KEY_BYTES) throw new RangeError(`encryption key must be ${KEY_BYTES} bytes, got ${k.key.length}`);
}

interface Ring {
  primary: LabelledKey;
  byLabel: Map<string, Buffer>;
  /** v1 values name their key by keyIdOf(), not by label. */
  byId: Map<string, Buffer>;
}

export class Keyring {
  #ring: Ring;

  /** `keys[primaryIndex]` (default the first) seals; all open. */
  constructor(keys: readonly LabelledKey[], primaryLabel?: string) {
    this.#ring = Keyring.#build(keys, primaryLabel);
  }

  static single(key: Buffer, label = DEFAULT_KEY_LABEL): Keyring {
    return new Keyring([{ label, key }]);
  }

  static #build(keys: readonly LabelledKey[], primaryLabel?: string): Ring {
    if (keys.length === 0) throw new RangeError('at least one encryption key is needed');
    const byLabel = new Map<string, Buffer>();
    const byId = new Map<string, Buffer>();
    for (const k of keys) {
      checkKey(k);
      if (byLabel.has(k.label)) throw new RangeError(`encryption key label "${k.label}" is used twice`);
      const own = Buffer.from(k.key); // own copy: the caller may zero or reuse its buffer
      byLabel.set(k.label, own);
      byId.set(keyIdOf(own), own);
    }
    const label = primaryLabel ?? keys[0]!.label;
    const key = byLabel.get(label);
    if (key === undefined) throw new RangeError(`the primary encryption key "${label}" is not among the keys`);
    return { primary: { label, key }, byLabel, byId };
  }

  /** Swaps in a new set of keys at once (a configuration reload). */
  replace(keys: readonly LabelledKey[], primaryLabel?: string): void {
    this.#ring = Keyring.#build(keys, primaryLabel);
  }

  get primaryLabel(): string {
    return this.#ring.primary.label;
  }

  get primaryKey(): Buffer {
    return this.#ring.primary.key;
  }

  get labels(): string[] {
    return [...this.#ring.byLabel.keys()];
  }

  byLabel(label: string): Buffer | undefined {
    return this.#ring.byLabel.get(label);
  }

  byKeyId(id: string): Buffer | undefined {
    return this.#ring.byId.get(id);
  }
}
