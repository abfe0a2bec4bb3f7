// kill -9 of one of three replicas in the middle of a burst of platform traffic, with requests
// aimed at it in flight. The two others keep answering (never a 5xx, never a dropped
// connection); a platform that retries and does orphan mitigation gets every resource it
// touched resolved; what the dead replica left half-done is finished or rolled back by a live
// one once its lease has expired (bounded wait); afterwards 0 orphans and 0 leaked sockets.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { bindBody, bindingPath, closeAllConnections, ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { LEASE_BOUND_MS, REPLICA_ENV } from './helpers/lease-timing.ts';
import { waitForNoOrphans } from './helpers/orphans.ts';
import { PlatformClient, type Route } from './helpers/platform-client.ts';
import { PlatformModel } from './helpers/platform-model.ts';
import { histogram } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';

const skip = await postgresSkipReason();
const WORKERS = 6;
const q = ids(SMALL_PLAN_ID);

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
    // Routes of our own: the victim's stays in the rotation after its death, as in a load
    // balancer that has not noticed yet (refused connects move on to the next replica).
    const routes: Route[] = f.set.replicas.map((r) => ({ name: r.name, osb: f.set.client(r.url, 8) }));
    const victim = f.set.replicas[1]!;
    const victimRoute = routes[1]!;
    const pc = new PlatformClient({ routes: () => routes, resolveWithinMs: LEASE_BOUND_MS });
    const model = new PlatformModel();

    const cycle = async (k: number, pin?: Route): Promise<void> => {
      const inst = f.id(`k${k}`);
      const made = await pc.create('provision', instancePath(inst), provisionBody(SMALL_PLAN_ID), q, pin);
      if (!made.ok) return void model.unresolved.push(made.reason);
      model.instance(inst, made.value.created);
      if (!made.value.created) return;
      for (const tag of ['a', 'b']) {
        const bid = `${inst}-${tag}`;
        const bound = await pc.create('bind', bindingPath(inst, bid), bindBody(SMALL_PLAN_ID), q);
        if (!bound.ok) return void model.unresolved.push(bound.reason);
        model.binding(bid, inst, bound.value.created ? bound.value.body.credentials : undefined);
      }
      if (model.exists(`${inst}-b`)) {
        const unbound = await pc.remove('unbind', `${bindingPath(inst, `${inst}-b`)}?${q}`);
        if (!unbound.ok) return void model.unresolved.push(unbound.reason);
        model.binding(`${inst}-b`, inst, undefined);
      }
      if (k % 2 === 0) {
        const removed = await pc.remove('deprovision', `${instancePath(inst)}?${q}`);
        if (!removed.ok) return void model.unresolved.push(removed.reason);
        model.instance(inst, false);
      }
    };

    // An instance of its own for the binds aimed at the victim.
    const target = f.id('target');
    const t = await pc.create('provision', instancePath(target), provisionBody(SMALL_PLAN_ID), q);
    assert.ok(t.ok && t.value.created, `provision ${target}: ${JSON.stringify(t)}`);
    model.instance(target, true);

    let started = 0;
    let killedAt = 0;
    const killAfter = Math.floor(ROUNDS * 0.4);
    const aimed: Promise<void>[] = [];
    const worker = async (): Promise<void> => {
      while (started < ROUNDS) {
        const k = started++;
        if (k === killAfter) {
          // Requests on their way to the victim when it dies: provisions and binds.
          for (let j = 0; j < 3; j++) aimed.push(cycle(ROUNDS + j, victimRoute));
          for (let j = 0; j < 3; j++) {
            const bid = f.id(`target-v${j}`);
            aimed.push(
              pc.create('bind', bindingPath(target, bid), bindBody(SMALL_PLAN_ID), q, victimRoute).then((r) => {
                if (!r.ok) model.unresolved.push(r.reason);
                else model.binding(bid, target, r.value.created ? r.value.body.credentials : undefined);
              }),
            );
          }
          await sleep(15);
          await f.set.killReplica(victim);
          killedAt = Date.now();
        }
        await cycle(k);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await Promise.all(aimed);
    assert.ok(killedAt > 0, 'the victim was killed');

    const byReplica = pc.histogramByReplica();
    console.log(`kill -9: ${model.size} resources, answers by replica ${JSON.stringify(byReplica)}`);
    // The living replicas: never a 5xx, never a dropped connection.
    const badFromLive = pc.log.filter((x) => x.replica !== victim.name && !['200', '201', '410', '422 ConcurrencyError'].includes(x.outcome));
    assert.deepEqual(
      histogram(badFromLive.map((x) => `${x.replica} ${x.op} ${x.outcome}`)), {},
      `live replicas answered badly: ${badFromLive.slice(0, 10).map((x) => `${x.replica} ${x.op} ${x.path} ${x.outcome} ${x.answer?.text ?? x.error?.message}`).join('\n')}`,
    );
    assert.deepEqual(model.unresolved, [], 'every resource the platform touched is resolved');
    // Whatever the dead replica left is finished or rolled back by a live one within its lease.
    const { report, ms } = await waitForNoOrphans(f.rmq, f.db, f.prefix, LEASE_BOUND_MS);
    assert.equal(report.total, 0, `${ms} ms after the burst, orphans or unfinished work remain: ${JSON.stringify(report, null, 1)}`);
    console.log(`kill -9: settled ${Date.now() - killedAt} ms after the kill`);
    assert.deepEqual(await model.disagreements(f.set, f.rmq), [], 'what the platform believes is what exists');
    await closeAllConnections();

    // The platform deletes what it still has: all of it goes, nothing is left either way.
    for (const inst of model.existing('instance')) {
      const gone = await pc.remove('cleanup', `${instancePath(inst)}?${q}`);
      assert.ok(gone.ok, JSON.stringify(gone));
    }
    const end = await waitForNoOrphans(f.rmq, f.db, f.prefix, 5000);
    assert.equal(end.report.total, 0, JSON.stringify(end.report, null, 1));
    assert.deepEqual(await f.rmq.usersStartingWith(f.prefix), []);
    await Promise.all(routes.map((r) => r.osb.close()));
    await f.set.assertNoLeaks();
  });
});
