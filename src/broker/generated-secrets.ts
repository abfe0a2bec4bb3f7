// Names and passwords warren makes up. A binding's RabbitMQ user carries a random suffix, so
// creating it can never overwrite a user that someone else owns (PUT /api/users replaces).
import { randomBytes } from 'node:crypto';

/** 192 bits, URL-safe (no escaping needed in URIs). */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function newUsername(bindingId: string): string {
  const bytes = randomBytes(8);
  let suffix = '';
  for (const b of bytes) suffix += ALPHABET[b & 31];
  return `${bindingId}-${suffix}`;
}

export function newOperationId(): string {
  return randomBytes(12).toString('base64url');
}
