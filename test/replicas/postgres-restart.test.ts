// PostgreSQL (a server of the test's own on 5442) stops abruptly under load and comes back. While
// it is down every request answers 503 within its budget (never hangs, never a dropped
// connection, no replica crashes) and /ready says why; once it is back every replica recovers
// (/ready 200, full cycles work on each). A platform that retries and does orphan mitigation
// gets everything resolved; afterwards 0 orphans and 0 leaked sockets.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { bindBody, bindingPath, closeAllConnections, ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, type ReplicaFixture } from './helpers/fixture.ts';
import { LEASE_BOUND_MS, REPLICA_ENV } from './helpers/lease-timing.ts';
import { waitForNoOrphans } from './helpers/orphans.ts';
import { OwnPostgres, ownPostgresSkipReason } from './helpers/own-postgres.ts';
import { PlatformClient, type Route } from './helpers/platform-client.ts';
import { PlatformModel } from './helpers/platform-model.ts';
import { histogram, serverErrorsAccountedFor, type Replica } from './helpers/replica-set.ts';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.ts';

const skip = ownPostgresSkipReason();
/** warren's request budget (operations.request_budget_ms) plus slack for a loaded machine. */
const ANSWER_BOUND_MS = Number(process.env['WARREN_TEST_REQUEST_BUDGET_MS'] ?? 25_000) + 3_000;
const DOWN_MS = 8_000;
const RECOVERY_BOUND_MS = 30_000;
const WORKERS = 3;
const q = ids(SMALL_PLAN_ID);

async function readiness(r: Replica): Promise<{ status: number; body: any }> {
  const a = await r.osb.call('GET', '/ready');
  return { status: a.status, body: a.body };
}

describe('replicas: PostgreSQL restarted under load', { skip }, () => {
  let pg: OwnPostgres;
  let db: TestDatabase;
  let f: ReplicaFixture;
  before(async () => {
    pg = new OwnPostgres();
    await pg.init();
    db = await createTestDatabase(pg.url);
    f = await startReplicaFixture('rpg', { db, env: REPLICA_ENV });
  });
  after(async () => {
    await closeAllConnections();
    await f?.close();
    if (pg?.pid() === undefined) await pg?.start().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await pg?.destroy();
  });

  it('503 within budget while down, /ready says why, every replica recovers, everything resolves, 0 orphans', { timeout: 300_000 }, async () => {
    const routes: Route[] = f.set.live.map((r) => ({ name: r.name, osb: r.osb }));
    const pc = new PlatformClient({ routes: () => routes, resolveWithinMs: DOWN_MS + RECOVERY_BOUND_MS + LEASE_BOUND_MS });
    const model = new PlatformModel();
    let stop = false;
    let seq = 0;
    const cycle = async (): Promise<void> => {
      const inst = f.id(`g${seq++}`);
      const made = await pc.create('provision', instancePath(inst), provisionBody(SMALL_PLAN_ID), q);
      if (!made.ok) return void model.unresolved.push(made.reason);
      model.instance(inst, made.value.created);
      if (!made.value.created) return;
      const bid = `${inst}-b`;
      const bound = await pc.create('bind', bindingPath(inst, bid), bindBody(SMALL_PLAN_ID), q);
      if (!bound.ok) return void model.unresolved.push(bound.reason);
      model.binding(bid, inst, bound.value.created ? bound.value.body.credentials : undefined);
      if (bound.value.created) {
        const unbound = await pc.remove('unbind', `${bindingPath(inst, bid)}?${q}`);
        if (!unbound.ok) return void model.unresolved.push(unbound.reason);
        model.binding(bid, inst, undefined);
      }
      if (seq % 2 === 0) {
        const removed = await pc.remove('deprovision', `${instancePath(inst)}?${q}`);
        if (!removed.ok) return void model.unresolved.push(removed.reason);
        model.instance(inst, false);
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, async () => {
      while (!stop) await cycle();
    }));

    let downFrom = 0;
    let downUntil = 0;
    let recoveredAt = 0;
    try {
      await sleep(2000);
      await pg.stop('immediate');
      downFrom = Date.now();
      await sleep(DOWN_MS / 2);
      for (const r of f.set.live) {
        const ready = await readiness(r);
        assert.equal(ready.status, 503, `${r.name} /ready while PostgreSQL is down: ${JSON.stringify(ready.body)}`);
        const store = ready.body?.checks?.store;
        assert.equal(store?.ok, false, `${r.name} /ready names the store: ${JSON.stringify(ready.body)}`);
        assert.ok(typeof store?.detail === 'string' && store.detail.length > 0, `${r.name} /ready says why: ${JSON.stringify(ready.body)}`);
      }
      await sleep(DOWN_MS / 2);
      downUntil = Date.now();
      await pg.start();
      for (const r of f.set.live) {
        const t0 = Date.now();
        for (;;) {
          const ready = await readiness(r);
          if (ready.status === 200) break;
          assert.ok(Date.now() - t0 < RECOVERY_BOUND_MS, `${r.name} not ready ${RECOVERY_BOUND_MS} ms after PostgreSQL came back: ${JSON.stringify(ready.body)}`);
          await sleep(250);
        }
      }
      recoveredAt = Date.now();
      await sleep(3000);
    } finally {
      stop = true;
      await load;
    }

    const log = pc.log;
    console.log(`PostgreSQL restart: ${log.length} exchanges, ${JSON.stringify(pc.histogramByReplica())}; down ${downUntil - downFrom} ms, all ready ${recoveredAt - downUntil} ms after the start`);
    for (const r of f.set.replicas) assert.ok(r.alive, `${r.name} (pid ${r.pid}) is still running`);
    const slow = log.filter((x) => x.ms > ANSWER_BOUND_MS);
    assert.deepEqual(slow.map((x) => `${x.replica} ${x.op} ${x.outcome} after ${x.ms} ms`), [], `answers within ${ANSWER_BOUND_MS} ms`);
    const wrong = log.filter((x) => !['200', '201', '410', '422 ConcurrencyError'].includes(x.outcome) && !x.outcome.startsWith('503'));
    assert.deepEqual(histogram(wrong.map((x) => `${x.op} ${x.outcome}`)), {}, `only 2xx, 410, 422 or 503: ${wrong.slice(0, 5).map((x) => x.answer?.text ?? x.error?.message).join('\n')}`);
    const duringOutage = log.filter((x) => x.at - x.ms >= downFrom + 500 && x.at <= downUntil);
    assert.ok(duringOutage.length > 0, 'requests were made while PostgreSQL was down');
    assert.deepEqual(histogram(duringOutage.filter((x) => !x.outcome.startsWith('503')).map((x) => `${x.op} ${x.outcome}`)), {}, 'while PostgreSQL is down, every request answers 503');
    const afterRecovery = log.filter((x) => x.at - x.ms >= recoveredAt + 1000);
    assert.deepEqual(histogram(afterRecovery.filter((x) => x.outcome.startsWith('5')).map((x) => `${x.replica} ${x.op} ${x.outcome}`)), {}, 'no 5xx once every replica is ready again');

    // Every 5xx is logged with its cause and counted; no log line carries the broker password.
    for (const r of f.set.live) {
      const seen = log.filter((x) => x.replica === r.name && x.answer !== undefined && x.answer.status >= 500).length;
      const { logged, counted } = await serverErrorsAccountedFor(r);
      assert.ok(logged >= seen, `${r.name} answered ${seen} 5xx but logged ${logged} with a cause`);
      assert.ok(counted >= seen, `${r.name} answered ${seen} 5xx but counted ${counted} in warren_osbapi_requests_total`);
      assert.ok(!r.proc.logs.some((l) => l.includes(f.set.password)), `${r.name} logged the broker password`);
    }

    // Every replica serves a whole cycle on its own again.
    for (const r of f.set.live) {
      const inst = f.id(`after-${r.name}`);
      assert.equal((await r.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) })).status, 201, `${r.name} provisions`);
      assert.equal((await r.osb.call('PUT', bindingPath(inst, `${inst}-b`), { body: bindBody(SMALL_PLAN_ID) })).status, 201, `${r.name} binds`);
      assert.equal((await r.osb.call('DELETE', `${bindingPath(inst, `${inst}-b`)}?${q}`)).status, 200, `${r.name} unbinds`);
      assert.equal((await r.osb.call('DELETE', `${instancePath(inst)}?${q}`)).status, 200, `${r.name} deprovisions`);
    }

    assert.deepEqual(model.unresolved, [], 'every resource the platform touched is resolved');
    const { report } = await waitForNoOrphans(f.rmq, f.db, f.prefix, LEASE_BOUND_MS);
    assert.equal(report.total, 0, JSON.stringify(report, null, 1));
    assert.deepEqual(await model.disagreements(f.set, f.rmq), [], 'what the platform believes is what exists');
    await closeAllConnections();
    await f.set.assertNoLeaks();
  });
});
