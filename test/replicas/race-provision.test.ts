// Three replicas on one PostgreSQL; the same provision sent to all three at once (a platform's
// retry through a load balancer), round after round. The answers must be those of one process:
// exactly one 201, the others 200 (same instance) or 422 ConcurrencyError; never a second 201,
// never a 5xx. Afterwards the vhost exists, every replica answers GET alike, and nothing is
// orphaned either way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { assertNoOrphans } from './helpers/orphans.ts';
import { count, outside, RaceTally, SCENARIO_MS } from './helpers/race-tally.ts';
import { outcome } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';
import { retrying } from './helpers/retrying.ts';

const skip = await postgresSkipReason();

describe('replicas: the same provision on every replica at once', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    f = await startReplicaFixture('rprov');
  });
  after(async () => {
    await f?.close();
  });

  it(`${ROUNDS} rounds: one 201, the rest 200 or 422 ConcurrencyError, one vhost, GET alike everywhere`, { timeout: SCENARIO_MS + 60_000 }, async () => {
    const tally = new RaceTally('provision x3');
    for (let n = 0; n < ROUNDS && tally.inTime(); n++) {
      const id = f.id(`p${n}`);
      const answers = await f.set.fanout('PUT', instancePath(id), provisionBody(SMALL_PLAN_ID));
      tally.round(n, answers, (a, o) => {
        const p: string[] = [];
        if (count(o, '201') !== 1) p.push(`${count(o, '201')} answers 201, not exactly one`);
        const bad = outside(o, ['201', '200', '422 ConcurrencyError']);
        if (bad.length) p.push(`answers outside 201/200/422 ConcurrencyError: ${bad.join(', ')}`);
        const created = a.find((x) => x.answer?.status === 201)?.answer?.body;
        for (const x of a) {
          if (x.answer?.status === 200 && created && JSON.stringify(x.answer.body) !== JSON.stringify(created)) {
            p.push(`${x.replica}'s 200 differs from the 201: ${x.answer.text} vs ${JSON.stringify(created)}`);
          }
        }
        return p;
      });
      if (!(await retrying(() => f.rmq.vhostExists(id)))) tally.note(n, `vhost ${id} does not exist after the race`);
      const gets = await f.set.fanout('GET', instancePath(id));
      const shapes = new Set(gets.map((g) => `${outcome(g)} ${g.answer?.text ?? ''}`));
      if (shapes.size !== 1 || gets[0]!.answer?.status !== 200) tally.note(n, `GET instance differs or fails across replicas: ${[...shapes].join(' | ')}`);
      // Deprovision through the load balancer so the shared RabbitMQ holds at most one of ours.
      const gone = await f.set.lb.call('DELETE', `${instancePath(id)}?${ids(SMALL_PLAN_ID)}`);
      if (gone.status !== 200) tally.note(n, `deprovision answered ${gone.status} ${gone.text}`);
    }
    tally.assertClean(ROUNDS);
    await assertNoOrphans(f.rmq, f.db, f.prefix, 'after the provision races:');
    const leaks = await f.set.assertNoLeaks();
    assert.equal(leaks.length, 3);
  });
});
