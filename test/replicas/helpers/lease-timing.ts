// How long a dead replica's work may wait before a live one finishes it: the operation lease
// plus the time to notice and finish. WARREN_TEST_LEASE_BOUND_MS overrides it; the replicas get
// REPLICA_ENV (WARREN_TEST_REPLICA_ENV as JSON adds to it, e.g. a shorter lease for a quick run).
export const LEASE_BOUND_MS = Number(process.env['WARREN_TEST_LEASE_BOUND_MS'] ?? 45_000);

export const REPLICA_ENV: Record<string, string> = {
  ...(JSON.parse(process.env['WARREN_TEST_REPLICA_ENV'] ?? '{}') as Record<string, string>),
};
