// Names and passwords warren makes up. A binding's RabbitMQ user carries a random suffix, so
// creating it can never overwrite a user that someone else owns (PUT /api/users replaces).
import { randomBytes } from 'node:crypto';

// One call into the CSPRNG per 4 KiB instead of one per secret: small randomBytes calls cost
// more in the call than in the bytes. Bytes are handed out once and never reused.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function random(n: number): Buffer {
  if (offset + n > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}

/** 192 bits, URL-safe (no escaping needed in URIs). */
export function newPassword(): string {
  return random(24).toString('base64url');
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function newUsername(bindingId: string): string {
  let suffix = '';
  for (const b of random(8)) suffix += ALPHABET[b & 31];
  return `${bindingId}-${suffix}`;
}

export function newOperationId(): string {
  return random(12).toString('base64url');
}
