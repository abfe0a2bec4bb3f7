// Authenticated encryption for values kept at rest (binding credentials): AES-256-GCM with a
// random 12-byte IV per value. Sealed form: `v2:<key label>:<base64(iv ‖ ciphertext ‖ tag)>`,
// sealed with the keyring's primary key and opened with the key its label names, so keys can
// be rotated (keyring.ts). Values from before labels, `v1:<key id>:...`, open with whichever
// configured key has that id (the legacy key).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KEY_BYTES, Keyring, keyIdOf } from './keyring.ts';

export { KEY_BYTES, keyIdOf };

const FORMAT = 'v2';
const LEGACY_FORMAT = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a sealed value could not be opened. Never carries key material or plaintext. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/** The label a sealed value names (v2), or undefined for a v1 value or an unknown format. */
export function sealedLabel(sealed: string): string | undefined {
  if (!sealed.startsWith(`${FORMAT}:`)) return undefined;
  const end = sealed.indexOf(':', FORMAT.length + 1);
  return end < 0 ? undefined : sealed.slice(FORMAT.length + 1, end);
}

/** The prefix of every value sealed with the key of that label. */
export const sealedPrefix = (label: string): string => `${FORMAT}:${label}:`;

export class SecretBox {
  readonly keyring: Keyring;

  /**
   * A keyring, or one key (label "default") plus `previousKeys` that only open values (labelled
   * "previous-1", ...).
   */
  constructor(key: Buffer | Keyring, previousKeys: readonly Buffer[] = []) {
    this.keyring = key instanceof Keyring
      ? key
      : new Keyring([{ label: 'default', key }, ...previousKeys.map((k, i) => ({ label: `previous-${i + 1}`, key: k }))]);
  }

  /** Id (keyIdOf) of the primary key. */
  get keyId(): string {
    return keyIdOf(this.keyring.primaryKey);
  }

  /** `aad` binds the value to its context (e.g. the row it belongs to), so it cannot be moved. */
  seal(plaintext: string, aad: string): string {
    const { primaryLabel: label, primaryKey: key } = this.keyring;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}:${label}:${body.toString('base64')}`;
  }

  open(sealed: string, aad: string): string {
    const [format, name, b64, extra] = sealed.split(':');
    if ((format !== FORMAT && format !== LEGACY_FORMAT) || name === undefined || b64 === undefined || extra !== undefined) {
      throw new SecretBoxError('the stored value is not in a sealed format this version understands');
    }
    const key = format === FORMAT ? this.keyring.byLabel(name) : this.keyring.byKeyId(name);
    if (key === undefined) {
      throw new SecretBoxError(format === FORMAT
        ? `it was encrypted with the key labelled "${name}", which is not configured (configured: ${this.keyring.labels.join(', ')})`
        : `it was encrypted with key ${name}, but no configured encryption key has that id (wrong or lost key?)`);
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
