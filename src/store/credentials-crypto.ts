// Binding credentials <-> sealed text, shared by both stores. The binding id is the AAD, so a
// sealed value copied onto another binding's row does not open.

import { SecretBoxError, type SecretBox } from './secret-box.ts';

export class CredentialsDecryptError extends Error {
  override name = 'CredentialsDecryptError';
  constructor(readonly bindingId: string, reason: string) {
    super(`cannot decrypt the stored credentials of binding ${bindingId}: ${reason}`);
  }
}

const aadFor = (bindingId: string): string => `warren:binding-credentials:${bindingId}`;

export function sealCredentials(box: SecretBox, bindingId: string, credentials: Record<string, unknown> | null): string | null {
  return credentials === null ? null : box.seal(JSON.stringify(credentials), aadFor(bindingId));
}

export function openCredentials(box: SecretBox, bindingId: string, sealed: string | null): Record<string, unknown> | null {
  if (sealed === null) return null;
  let clear: string;
  try {
    clear = box.open(sealed, aadFor(bindingId));
  } catch (err) {
    throw new CredentialsDecryptError(bindingId, err instanceof SecretBoxError ? err.message : 'decryption failed');
  }
  try {
    return JSON.parse(clear) as Record<string, unknown>;
  } catch {
    // JSON.parse quotes the input in its message: never pass that on.
    throw new CredentialsDecryptError(bindingId, 'the decrypted value is not JSON');
  }
}
