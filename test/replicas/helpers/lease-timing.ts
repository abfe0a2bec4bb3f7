// Lease timings the replicas run with and the bounds the tests allow, and who holds the
// background-jobs lease (each replica's /metrics says whether it does).
import type { Replica } from './replica-set.ts';

/** warren's defaults (operations.lease_ms, recovery_interval_ms, background_lease_ms). */
const LEASE_MS = 10_000;
const RECOVERY_INTERVAL_MS = 2_000;
const BACKGROUND_LEASE_MS = 15_000;

/**
 * How long a dead replica's work may wait before a live one has finished it: its operation
 * lease, the background lease when the dead one also ran the background jobs, a recovery
 * round, and time to do the work. WARREN_TEST_LEASE_BOUND_MS overrides it.
 */
export const LEASE_BOUND_MS = Number(process.env['WARREN_TEST_LEASE_BOUND_MS'] ?? LEASE_MS + BACKGROUND_LEASE_MS + RECOVERY_INTERVAL_MS + 15_000);

/** How long the background jobs may go without a holder after the holder dies. */
export const TAKEOVER_BOUND_MS = Number(process.env['WARREN_TEST_TAKEOVER_BOUND_MS'] ?? BACKGROUND_LEASE_MS + 5_000);

/** Extra environment for every replica: WARREN_TEST_REPLICA_ENV as a JSON object. */
export const REPLICA_ENV: Record<string, string> = {
  ...(JSON.parse(process.env['WARREN_TEST_REPLICA_ENV'] ?? '{}') as Record<string, string>),
};

/** Reads warren_background_lease_held from a replica's /metrics: true, false, or undefined if absent. */
export async function holdsBackgroundLease(r: Replica): Promise<boolean | undefined> {
  const m = await r.osb.call('GET', '/metrics');
  const line = m.text.split('\n').find((l) => l.startsWith('warren_background_lease_held'));
  if (line === undefined) return undefined;
  return Number(line.trim().split(/\s+/).at(-1)) === 1;
}

/** Names of the replicas that say they hold the background lease. */
export async function backgroundLeaseHolders(replicas: Replica[]): Promise<string[]> {
  const held = await Promise.all(replicas.map(async (r) => ((await holdsBackgroundLease(r)) ? r.name : undefined)));
  return held.filter((n): n is string => n !== undefined);
}
