// Three replicas on one PostgreSQL; a bind on one replica while another deprovisions the same
// instance, round after round. Either may win, the other answers 422 ConcurrencyError (or the
// bind finds the instance gone: 404); never a 5xx. The platform then finishes the deprovision
// (retrying a 422), and nothing is left: no vhost, no user (which no OSBAPI call could ever
// reach again), no record.
import { after, before, describe, it } from 'node:test';
import { bindBody, bindingPath, ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { assertNoOrphans } from './helpers/orphans.ts';
import { outside, RaceTally, SCENARIO_MS } from './helpers/race-tally.ts';
import { callReplica, outcome } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';
import { retrying } from './helpers/retrying.ts';

const skip = await postgresSkipReason();

describe('replicas: bind on one replica while another deprovisions', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    f = await startReplicaFixture('rbvd');
  });
  after(async () => {
    await f?.close();
  });

  it(`${ROUNDS} rounds: no 5xx, the deprovision completes, 0 orphans`, { timeout: SCENARIO_MS + 60_000 }, async () => {
    const tally = new RaceTally('bind vs deprovision');
    const deleteQuery = `?${ids(SMALL_PLAN_ID)}`;
    for (let n = 0; n < ROUNDS && tally.inTime(); n++) {
      const inst = f.id(`d${n}`);
      const bid = f.id(`d${n}-b`);
      const made = await f.set.lb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
      if (made.status !== 201) {
        tally.note(n, `provision before the race answered ${made.status} ${made.text}`);
        continue;
      }
      const live = f.set.live;
      const binder = live[n % live.length]!;
      const remover = live[(n + 1) % live.length]!;
      const [bound, removed] = await Promise.all([
        callReplica(binder, 'PUT', bindingPath(inst, bid), bindBody(SMALL_PLAN_ID)),
        callReplica(remover, 'DELETE', `${instancePath(inst)}${deleteQuery}`),
      ]);
      tally.round(n, [bound, removed], (_a, [b, d]) => {
        const p: string[] = [];
        if (outside([b!], ['201', '404 NotFound', '422 ConcurrencyError']).length) p.push(`bind answered ${b}`);
        if (outside([d!], ['200', '422 ConcurrencyError']).length) p.push(`deprovision answered ${d}`);
        if (b === '422 ConcurrencyError' && d === '422 ConcurrencyError') p.push('both refused: neither held the instance');
        return p;
      });
      // The platform retries a deprovision refused for concurrency until it is done.
      let final = removed;
      for (let tries = 0; outcome(final) === '422 ConcurrencyError' && tries < 50; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        final = await callReplica(remover, 'DELETE', `${instancePath(inst)}${deleteQuery}`);
      }
      if (!['200', '410'].includes(outcome(final))) tally.note(n, `the platform's deprovision ended with ${outcome(final)} ${final.answer?.text ?? ''}`);
      const users = await retrying(() => f.rmq.usersStartingWith(`${bid}-`));
      if (users.length > 0) tally.note(n, `users left after the deprovision: ${JSON.stringify(users)} (bind answered ${outcome(bound)})`);
      if (await retrying(() => f.rmq.vhostExists(inst))) tally.note(n, `vhost ${inst} left after the deprovision`);
    }
    tally.assertClean(ROUNDS);
    await assertNoOrphans(f.rmq, f.db, f.prefix, 'after bind vs deprovision:');
    await f.set.assertNoLeaks();
  });
});
