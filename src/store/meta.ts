// The deployment's identity, kept in the store's warren_meta table. Generated once, at the first
// open, so every warren sharing a store (replicas on one PostgreSQL) is the same deployment and
// every other store (another platform's warren on the same RabbitMQ) is another.
import { randomBytes } from 'node:crypto';

export const DEPLOYMENT_ID_KEY = 'deployment_id';

/** Ids go into a vhost description and a user tag: no spaces, commas or parentheses. */
export const DEPLOYMENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** 16 characters of base32: 80 random bits. */
export function newDeploymentId(): string {
  let id = '';
  for (const b of randomBytes(16)) id += ALPHABET[b & 31];
  return id;
}
