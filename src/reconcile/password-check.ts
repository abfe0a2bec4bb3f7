// Does a stored password still open a RabbitMQ user? RabbitMQ keeps base64(salt(4 bytes) ||
// H(salt || password)) with H = SHA-256 (the default since 3.6) or SHA-512; checking it costs
// no login attempt and no connection.
import { createHash, timingSafeEqual } from 'node:crypto';

const ALGORITHMS: Record<string, string> = {
  rabbit_password_hashing_sha256: 'sha256',
  rabbit_password_hashing_sha512: 'sha512',
};

/** true or false when the hash can be checked; null for algorithms warren does not check (md5, external). */
export function passwordMatchesHash(password: string, passwordHash: string, hashingAlgorithm: string): boolean | null {
  const algorithm = ALGORITHMS[hashingAlgorithm];
  if (algorithm === undefined) return null;
  const raw = Buffer.from(passwordHash, 'base64');
  if (raw.length <= 4) return false;
  const salt = raw.subarray(0, 4);
  const expected = createHash(algorithm).update(salt).update(password, 'utf8').digest();
  const actual = raw.subarray(4);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
