// Authenticated encryption for values kept at rest (binding credentials): AES-256-GCM with a
// random 12-byte IV per value. Sealed form: `v1:<key id>:<base64(iv ‖ ciphertext ‖ tag)>`.
// The key id lets a later release rotate keys: seal with the current key, open with any known one.

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a sealed value could not be opened. Never carries key material or plaintext. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/**
 * A short public name for a key: a keyed hash, so it identifies the key without revealing
 * anything usable about it.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('warren secret-box key id').digest('hex').slice(0, 8);
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new RangeError(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
}

export class SecretBox {
  /** Id of the key new values are sealed with. */
  readonly keyId: string;
  readonly #current: Buffer;
  readonly #keys = new Map<string, Buffer>();

  /** `previousKeys` can only open values (key rotation); `key` seals and opens. */
  constructor(key: Buffer, previousKeys: readonly Buffer[] = []) {
    checkKey(key);
    for (const k of previousKeys) {
      checkKey(k);
      this.#keys.set(keyIdOf(k), Buffer.from(k));
    }
    this.#current = Buffer.from(key); // own copy: the caller may zero or reuse its buffer
    this.keyId = keyIdOf(key);
    this.#keys.set(this.keyId, this.#current);
  }

  /** `aad` binds the value to its context (e.g. the row it belongs to), so it cannot be moved. */
  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}:${this.keyId}:${body.toString('base64')}`;
  }

  open(sealed: string, aad: string): string {
    const [format, keyId, b64, extra] = sealed.split(':');
    if (format !== FORMAT || keyId === undefined || b64 === undefined || extra !== undefined) {
      throw new SecretBoxError('the stored value is not in a sealed format this version understands');
    }
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new SecretBoxError(
        `it was encrypted with key ${keyId}, but the configured encryption key is ${this.keyId} (wrong or lost key?)`,
      );
    }
    const body = Buffer.from(b64, 'base64');
    if (body.length < IV_BYTES + TAG_BYTES) {
      throw new SecretBoxError('the stored value is truncated');
    }
    const decipher = createDecipheriv(ALGORITHM, key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      const clear = Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]);
      return clear.toString('utf8');
    } catch {
      throw new SecretBoxError('authentication failed: wrong key, or the stored value was altered or moved');
    }
  }
}
