// Asynchronous operations across replicas: with accepts_incomplete=true and RabbitMQ stalled, a
// provision that cannot finish within the request's budget answers 202 with an operation; the
// same request on another replica gets the same 202; every replica's last_operation reports it
// alike (with Retry-After); once RabbitMQ answers again it finishes on its own, even when the
// replica that started it was killed meanwhile. Without accepts_incomplete the answer is never a
// 202. Afterwards 0 orphans and 0 leaked sockets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, type ReplicaFixture } from './helpers/fixture.ts';
import { LEASE_BOUND_MS, REPLICA_ENV } from './helpers/lease-timing.ts';
import { waitForNoOrphans } from './helpers/orphans.ts';
import { PlatformClient } from './helpers/platform-client.ts';
import { callReplica, outcome, type Replica, type ReplicaAnswer } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';
import { retrying } from './helpers/retrying.ts';

const skip = await postgresSkipReason();
/** A short request budget (operations.request_budget_ms) so the test need not wait 25 s. */
const BUDGET_MS = 3000;
const q = ids(SMALL_PLAN_ID);

const poll = (r: Replica, id: string, operation: string): Promise<ReplicaAnswer> =>
  callReplica(r, 'GET', `${instancePath(id)}/last_operation?${q}&operation=${encodeURIComponent(operation)}`);

describe('replicas: asynchronous operations finish on any replica', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-async-'));
  const config = join(dir, 'warren.yml');
  writeFileSync(config, `operations:\n  request_budget_ms: ${BUDGET_MS}\n`);
  let f: ReplicaFixture;
  before(async () => {
    f = await startReplicaFixture('rasync', { env: { ...REPLICA_ENV, WARREN_CONFIG: config }, rabbitLatencyMs: 0 });
  });
  after(async () => {
    f?.rabbitRelay?.resume();
    await f?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('202 while RabbitMQ stalls, last_operation alike everywhere, finished after the stall even with its replica killed', { timeout: 180_000 }, async () => {
    const [r1, r2, r3] = f.set.live as [Replica, Replica, Replica];
    const a = f.id('a');
    const b = f.id('b');
    const sync = f.id('sync');
    f.rabbitRelay!.stall();

    const [first, viaR1, plain] = await Promise.all([
      callReplica(r1, 'PUT', `${instancePath(a)}?accepts_incomplete=true`, provisionBody(SMALL_PLAN_ID)),
      callReplica(r1, 'PUT', `${instancePath(b)}?accepts_incomplete=true`, provisionBody(SMALL_PLAN_ID)),
      callReplica(r2, 'PUT', instancePath(sync), provisionBody(SMALL_PLAN_ID)),
    ]);
    for (const x of [first, viaR1]) {
      assert.equal(outcome(x), '202', `accepts_incomplete with RabbitMQ stalled: ${outcome(x)} ${x.answer?.text}`);
      assert.equal(typeof x.answer!.body?.operation, 'string', `a 202 names its operation: ${x.answer!.text}`);
      assert.ok(x.ms < BUDGET_MS + 2000, `the 202 came within the budget: ${x.ms} ms`);
    }
    assert.notEqual(outcome(plain), '202', 'without accepts_incomplete, never a 202');
    assert.ok(plain.ms < BUDGET_MS + 2000, `the synchronous answer came within the budget: ${plain.ms} ms (${outcome(plain)})`);
    const op = first.answer!.body.operation as string;

    // The platform's retry lands on another replica: the same 202, the same operation.
    const again = await callReplica(r2, 'PUT', `${instancePath(a)}?accepts_incomplete=true`, provisionBody(SMALL_PLAN_ID));
    assert.equal(outcome(again), '202', `a repeat on another replica while it runs: ${again.answer?.text}`);
    assert.equal(again.answer!.body.operation, op, 'the repeat names the same operation');

    // Every replica reports it alike, in progress, with Retry-After.
    const polls = await Promise.all(f.set.live.map((r) => poll(r, a, op)));
    for (const p of polls) {
      assert.equal(outcome(p), '200', `${p.replica} last_operation: ${p.answer?.text}`);
      assert.equal(p.answer!.body.state, 'in progress', `${p.replica}: ${p.answer!.text}`);
      assert.ok(Number(p.answer!.headers['retry-after']) > 0, `${p.replica} says when to poll again: ${JSON.stringify(p.answer!.headers['retry-after'])}`);
    }
    assert.equal(new Set(polls.map((p) => p.answer!.text)).size, 1, 'last_operation is the same on every replica');

    // The replica that started both dies; RabbitMQ answers again; the others finish the work.
    await f.set.killReplica(r1);
    f.rabbitRelay!.resume();
    const t0 = Date.now();
    const opB = viaR1.answer!.body.operation as string;
    for (const [id, operation] of [[a, op], [b, opB]] as const) {
      let state = '';
      for (let i = 0; Date.now() - t0 < LEASE_BOUND_MS; i++) {
        const p = await poll([r2, r3][i % 2]!, id, operation);
        state = p.answer?.body?.state ?? outcome(p);
        if (state !== 'in progress') break;
        await sleep(500);
      }
      assert.equal(state, 'succeeded', `${id} finished after its replica died: ${state}`);
      const gets = await f.set.fanout('GET', instancePath(id));
      assert.deepEqual(gets.map(outcome), ['200', '200'], `${id} exists on every replica`);
      assert.ok(await retrying(() => f.rmq.vhostExists(id)), `${id}'s vhost exists`);
      const done = await Promise.all([r2, r3].map((r) => poll(r, id, operation)));
      assert.equal(new Set(done.map((p) => p.answer?.text)).size, 1, 'last_operation alike after it finished');
    }
    console.log(`async: 202 in ${first.ms} ms; synchronous ${outcome(plain)} in ${plain.ms} ms; both finished ${Date.now() - t0} ms after the kill`);

    // The platform cleans up: deprovisions, and mitigates the synchronous one if it failed.
    const pc = new PlatformClient({ routes: () => f.set.live.map((r) => ({ name: r.name, osb: r.osb })), resolveWithinMs: LEASE_BOUND_MS });
    for (const id of [a, b, sync]) {
      const gone = await pc.remove('deprovision', `${instancePath(id)}?${q}`);
      assert.ok(gone.ok, JSON.stringify(gone));
    }
    const { report } = await waitForNoOrphans(f.rmq, f.db, f.prefix, LEASE_BOUND_MS);
    assert.equal(report.total, 0, JSON.stringify(report, null, 1));
    await f.set.assertNoLeaks();
  });
});
