// kill -9 of one of three replicas (one that does not run the background jobs) in the middle of
// a burst of platform traffic, with requests aimed at it in flight. The two others keep
// answering (never a 5xx, never a dropped connection); a platform that retries and does orphan
// mitigation gets every resource it touched resolved; what the dead replica left half-done is
// finished or rolled back by a live one once its lease has expired (bounded wait); afterwards
// 0 orphans and 0 leaked sockets.
import { after, before, describe, it } from 'node:test';
import { closeAllConnections } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { killMidBurst } from './helpers/kill-mid-burst.ts';
import { backgroundLeaseHolders, LEASE_BOUND_MS, REPLICA_ENV } from './helpers/lease-timing.ts';
import { postgresSkipReason } from './helpers/test-database.ts';

const skip = await postgresSkipReason();

describe('replicas: kill -9 of one replica mid-burst', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    // RabbitMQ answers slowly, so the kill meets requests half-way through their RabbitMQ calls.
    f = await startReplicaFixture('rkill', { env: REPLICA_ENV, rabbitLatencyMs: 30 });
  });
  after(async () => {
    await closeAllConnections();
    await f?.close();
  });

  it(`${ROUNDS} platform cycles; one replica killed with requests in flight: the rest keep answering, everything resolves, 0 orphans`, { timeout: 240_000 + 3 * LEASE_BOUND_MS }, async () => {
    // Not the lease holder (kill-lease-holder.test.ts kills that one), where one can be told.
    const holders = await backgroundLeaseHolders(f.set.live);
    const victim = f.set.live.find((r) => !holders.includes(r.name)) ?? f.set.live[1]!;
    await killMidBurst(f, { victim, rounds: ROUNDS, resolveWithinMs: LEASE_BOUND_MS });
  });
});
