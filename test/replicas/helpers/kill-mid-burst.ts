// kill -9 of one replica in the middle of a burst of platform traffic, with provisions and binds
// aimed at it in flight, and every check that must hold afterwards: the live replicas never
// answered a 5xx or dropped a connection, a platform that retries and does orphan mitigation got
// every resource resolved, what the dead replica left is finished by a live one within the
// bound, what the platform believes exists, 0 orphans, 0 leaked sockets.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { bindBody, bindingPath, closeAllConnections, ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../../broker/helpers.ts';
import type { ReplicaFixture } from './fixture.ts';
import { waitForNoOrphans } from './orphans.ts';
import { PlatformClient, type Route } from './platform-client.ts';
import { PlatformModel } from './platform-model.ts';
import { histogram, type Replica } from './replica-set.ts';
import { retrying } from './retrying.ts';

const q = ids(SMALL_PLAN_ID);

export interface KillOptions {
  victim: Replica;
  /** Platform cycles (provision, two binds, an unbind, every other one a deprovision). */
  rounds: number;
  workers?: number;
  /** Every resource resolves, and the dead replica's work is finished, within this. */
  resolveWithinMs: number;
  /** Runs right after the kill, beside the rest of the burst (e.g. watching a takeover). */
  afterKill?: () => Promise<void>;
}

export async function killMidBurst(f: ReplicaFixture, o: KillOptions): Promise<void> {
  // Routes of our own: the victim's stays in the rotation after its death, as in a load
  // balancer that has not noticed yet (refused connects move on to the next replica).
  const routes: Route[] = f.set.live.map((r) => ({ name: r.name, osb: f.set.client(r.url, 8) }));
  const victimRoute = routes.find((r) => r.name === o.victim.name)!;
  const pc = new PlatformClient({ routes: () => routes, resolveWithinMs: o.resolveWithinMs });
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
  const killAfter = Math.floor(o.rounds * 0.4);
  const aimed: Promise<void>[] = [];
  const worker = async (): Promise<void> => {
    while (started < o.rounds) {
      const k = started++;
      if (k === killAfter) {
        // Requests on their way to the victim when it dies: provisions and binds.
        for (let j = 0; j < 3; j++) aimed.push(cycle(o.rounds + j, victimRoute));
        for (let j = 0; j < 3; j++) {
          const bid = f.id(`target-v${j}`);
          aimed.push(
            pc.create('bind', bindingPath(target, bid), bindBody(SMALL_PLAN_ID), q, victimRoute).then((r) => {
              if (!r.ok) model.unresolved.push(r.reason);
              else model.binding(bid, target, r.value.created ? r.value.body.credentials : undefined);
            }),
          );
        }
        await sleep(40);
        await f.set.killReplica(o.victim);
        killedAt = Date.now();
        if (o.afterKill) aimed.push(o.afterKill());
      }
      await cycle(k);
    }
  };
  await Promise.all(Array.from({ length: o.workers ?? 6 }, worker));
  await Promise.all(aimed);
  assert.ok(killedAt > 0, 'the victim was killed');

  console.log(`kill -9 of ${o.victim.name}: ${model.size} resources, answers by replica ${JSON.stringify(pc.histogramByReplica())}`);
  // The living replicas: never a 5xx, never a dropped connection.
  const badFromLive = pc.log.filter((x) => x.replica !== o.victim.name && !['200', '201', '410', '422 ConcurrencyError'].includes(x.outcome));
  assert.deepEqual(
    histogram(badFromLive.map((x) => `${x.replica} ${x.op} ${x.outcome}`)), {},
    `live replicas answered badly:\n${badFromLive.slice(0, 10).map((x) => `${x.replica} ${x.op} ${x.path} ${x.outcome} ${x.answer?.text ?? x.error?.message}`).join('\n')}`,
  );
  assert.deepEqual(model.unresolved, [], 'every resource the platform touched is resolved');
  // Whatever the dead replica left is finished or rolled back by a live one within the bound.
  const { report, ms } = await waitForNoOrphans(f.rmq, f.db, f.prefix, o.resolveWithinMs);
  assert.equal(report.total, 0, `${ms} ms after the burst, orphans or unfinished work remain: ${JSON.stringify(report, null, 1)}`);
  console.log(`kill -9 of ${o.victim.name}: all settled ${Date.now() - killedAt} ms after the kill`);
  assert.deepEqual(await model.disagreements(f.set, f.rmq), [], 'what the platform believes is what exists');
  await closeAllConnections();

  // The platform deletes what it still has: all of it goes, nothing is left either way.
  for (const inst of model.existing('instance')) {
    const gone = await pc.remove('cleanup', `${instancePath(inst)}?${q}`);
    assert.ok(gone.ok, JSON.stringify(gone));
  }
  const end = await waitForNoOrphans(f.rmq, f.db, f.prefix, 5000);
  assert.equal(end.report.total, 0, JSON.stringify(end.report, null, 1));
  assert.deepEqual(await retrying(() => f.rmq.usersStartingWith(f.prefix)), []);
  await Promise.all(routes.map((r) => r.osb.close()));
  await f.set.assertNoLeaks();
}
