// SIGTERM while RabbitMQ stalls, the hard case of a drain (the issue saw the drain give up after
// 31 s and the requests in flight get a dropped socket). The stopping replica must close its
// idle keep-alive sockets at once (so the platform's next request goes elsewhere), answer every
// request in flight within its budget (with `Connection: close`), exit 0 within that bound, and
// leave nothing behind: once RabbitMQ answers again, the platform's orphan mitigation through the
// other replicas resolves everything and no orphan remains.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from 'undici';
import { ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, type ReplicaFixture } from './helpers/fixture.ts';
import { LEASE_BOUND_MS, REPLICA_ENV } from './helpers/lease-timing.ts';
import { waitForNoOrphans } from './helpers/orphans.ts';
import { PlatformClient } from './helpers/platform-client.ts';
import { callReplica, outcome } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';

const skip = await postgresSkipReason();
/** warren's request budget (operations.request_budget_ms) plus slack for a loaded machine. */
const ANSWER_BOUND_MS = Number(process.env['WARREN_TEST_REQUEST_BUDGET_MS'] ?? 25_000) + 5_000;
const IN_FLIGHT = 5;
const q = ids(SMALL_PLAN_ID);

describe('replicas: SIGTERM while RabbitMQ stalls', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    f = await startReplicaFixture('rdrain', { env: REPLICA_ENV, rabbitLatencyMs: 0 });
  });
  after(async () => {
    f?.rabbitRelay?.resume();
    await f?.close();
  });

  it('idle keep-alive sockets closed at once, every request in flight answered with Connection: close, exit 0 within the budget, nothing left', { timeout: 180_000 }, async () => {
    const victim = f.set.live[0]!;
    // An idle keep-alive connection, as a platform's HTTP client keeps one.
    const idle = new Client(victim.url, { keepAliveTimeout: 60_000 });
    let idleClosedAt = 0;
    idle.on('disconnect', () => (idleClosedAt ||= Date.now()));
    const cat = await idle.request({ method: 'GET', path: '/v2/catalog', headers: { authorization: 'Basic ' + Buffer.from(`${f.set.username}:${f.set.password}`).toString('base64'), 'x-broker-api-version': '2.17' } });
    await cat.body.text();
    assert.equal(cat.statusCode, 200);

    f.rabbitRelay!.stall();
    const sentAt = Date.now();
    const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) => callReplica(victim, 'PUT', instancePath(f.id(`s${i}`)), provisionBody(SMALL_PLAN_ID)));
    await sleep(500);
    const termAt = Date.now();
    const stopped = f.set.stopReplica(victim);
    const answers = await Promise.all(inFlight);
    const { code, ms } = await stopped;
    await idle.close().catch(() => undefined);
    console.log(`drain with RabbitMQ stalled: exit ${code} after ${ms} ms; idle socket closed after ${idleClosedAt ? idleClosedAt - termAt : 'never'} ms; in flight: ${answers.map((a) => `${outcome(a)} after ${a.ms} ms`).join(', ')}`);

    assert.ok(idleClosedAt > 0 && idleClosedAt - termAt < 3000, `the idle keep-alive socket is closed at once on SIGTERM (${idleClosedAt ? idleClosedAt - termAt : 'never'} ms)`);
    for (const a of answers) {
      assert.ok(a.answer, `a request in flight got ${outcome(a)} instead of an answer`);
      assert.ok(a.at - sentAt <= ANSWER_BOUND_MS, `answered within the budget: ${a.at - sentAt} ms`);
      assert.equal(String(a.answer.headers['connection']).toLowerCase(), 'close', `an answer during the drain says Connection: close (${outcome(a)})`);
      assert.ok(a.answer.status < 500 || a.answer.status === 503, `a stalled RabbitMQ is 503, not ${outcome(a)}: ${a.answer.text}`);
    }
    const served5xx = answers.filter((a) => a.answer!.status >= 500).length;
    const logged5xx = victim.proc.logs.filter((l) => /"status":5\d\d/.test(l)).length;
    assert.ok(logged5xx >= served5xx, `every 5xx is logged with its cause: ${served5xx} answered, ${logged5xx} logged`);
    assert.equal(code, 0, `the drained replica exits 0: ${victim.proc.logs.slice(-12).join('\n')}`);
    assert.ok(ms <= ANSWER_BOUND_MS, `exit within the budget: ${ms} ms`);

    // RabbitMQ answers again: the platform mitigates each failed provision through the others.
    f.rabbitRelay!.resume();
    const pc = new PlatformClient({ routes: () => f.set.live.map((r) => ({ name: r.name, osb: r.osb })), resolveWithinMs: LEASE_BOUND_MS });
    for (const [i, a] of answers.entries()) {
      if (a.answer!.status >= 500) {
        const gone = await pc.remove('orphan mitigation', `${instancePath(f.id(`s${i}`))}?${q}`);
        assert.ok(gone.ok, JSON.stringify(gone));
      } else {
        assert.ok([200, 201].includes(a.answer!.status), outcome(a));
      }
    }
    const { report, ms: settled } = await waitForNoOrphans(f.rmq, f.db, f.prefix, LEASE_BOUND_MS);
    assert.equal(report.total, 0, `${settled} ms after RabbitMQ came back: ${JSON.stringify(report, null, 1)}`);
    await f.set.assertNoLeaks();
  });
});
