// kill -9 of the replica that holds the background-jobs lease (recovery of abandoned work, the
// unbind's late looks, pruning), mid-burst, with requests aimed at it in flight. Exactly one
// replica holds the lease before; within the lease length another takes it over (a higher
// epoch, never two holders at once); it then finishes what the dead holder left, and the
// platform sees everything resolved with 0 orphans, as for any other replica.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { closeAllConnections } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { killMidBurst } from './helpers/kill-mid-burst.ts';
import { backgroundLeaseHolders, LEASE_BOUND_MS, REPLICA_ENV, TAKEOVER_BOUND_MS } from './helpers/lease-timing.ts';
import type { Replica } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';

const skip = await postgresSkipReason();

async function epochOf(r: Replica): Promise<number | undefined> {
  const m = await r.osb.call('GET', '/metrics');
  const line = m.text.split('\n').find((l) => l.startsWith('warren_background_lease_epoch'));
  return line === undefined ? undefined : Number(line.trim().split(/\s+/).at(-1));
}

/** Polls until exactly one of the replicas holds the lease; fails on two holders at once. */
async function soleHolder(replicas: Replica[], withinMs: number): Promise<{ holder: Replica; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const names = await backgroundLeaseHolders(replicas);
    assert.ok(names.length <= 1, `two replicas run the background jobs at once: ${names.join(', ')}`);
    if (names.length === 1) return { holder: replicas.find((r) => r.name === names[0])!, ms: Date.now() - t0 };
    assert.ok(Date.now() - t0 < withinMs, `no replica holds the background lease after ${Date.now() - t0} ms (warren_background_lease_held on /metrics)`);
    await sleep(250);
  }
}

describe('replicas: kill -9 of the background lease holder mid-burst', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    f = await startReplicaFixture('rlease', { env: REPLICA_ENV, rabbitLatencyMs: 30 });
  });
  after(async () => {
    await closeAllConnections();
    await f?.close();
  });

  it('another replica takes the lease over within its length and finishes what the holder left; 0 orphans', { timeout: 240_000 + 3 * LEASE_BOUND_MS }, async () => {
    const { holder } = await soleHolder(f.set.live, TAKEOVER_BOUND_MS);
    const epoch = await epochOf(holder);
    assert.ok(epoch !== undefined && epoch > 0, `the holder reports its lease epoch: ${epoch}`);
    let takeover = '';
    await killMidBurst(f, {
      victim: holder,
      rounds: ROUNDS,
      resolveWithinMs: LEASE_BOUND_MS,
      afterKill: async () => {
        const next = await soleHolder(f.set.live, TAKEOVER_BOUND_MS);
        const newEpoch = await epochOf(next.holder);
        assert.ok(newEpoch !== undefined && newEpoch > epoch, `the new holder's epoch ${newEpoch} is above ${epoch}`);
        takeover = `${next.holder.name} took the lease over ${next.ms} ms after ${holder.name} died (epoch ${epoch} -> ${newEpoch})`;
      },
    });
    console.log(takeover);
    assert.ok(takeover, 'the takeover was seen');
  });
});
