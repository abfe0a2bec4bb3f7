// Three replicas on one PostgreSQL; the same bind sent to all three at once, round after round.
// Exactly one 201; the others 200 with the same credentials or 422 ConcurrencyError; never a
// 5xx. Afterwards exactly one RabbitMQ user exists for the binding, the winner's credentials
// log in over AMQP, and GET binding answers the same on every replica.
import { after, before, describe, it } from 'node:test';
import { amqpConnect, bindBody, bindingPath, closeAllConnections, instancePath, provisionBody, safeClose, STANDARD_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { assertNoOrphans } from './helpers/orphans.ts';
import { count, outside, RaceTally, SCENARIO_MS } from './helpers/race-tally.ts';
import { outcome } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';
import { retrying } from './helpers/retrying.ts';

const skip = await postgresSkipReason();

describe('replicas: the same bind on every replica at once', { skip }, () => {
  let f: ReplicaFixture;
  let inst: string;
  before(async () => {
    f = await startReplicaFixture('rbind');
    inst = f.id('inst');
    const r = await f.set.lb.call('PUT', instancePath(inst), { body: provisionBody(STANDARD_PLAN_ID) });
    if (r.status !== 201) throw new Error(`provision: ${r.status} ${r.text}`);
  });
  after(async () => {
    await closeAllConnections();
    await f?.close();
  });

  it(`${ROUNDS} rounds: one 201, the rest 200 with the same credentials or 422, one user that logs in, GET alike`, { timeout: SCENARIO_MS + 60_000 }, async () => {
    const tally = new RaceTally('bind x3');
    for (let n = 0; n < ROUNDS && tally.inTime(); n++) {
      const bid = f.id(`b${n}`);
      const answers = await f.set.fanout('PUT', bindingPath(inst, bid), bindBody(STANDARD_PLAN_ID));
      let winner: Record<string, any> | undefined;
      tally.round(n, answers, (a, o) => {
        const p: string[] = [];
        if (count(o, '201') !== 1) p.push(`${count(o, '201')} answers 201, not exactly one`);
        const bad = outside(o, ['201', '200', '422 ConcurrencyError']);
        if (bad.length) p.push(`answers outside 201/200/422 ConcurrencyError: ${bad.join(', ')}`);
        winner = a.find((x) => x.answer?.status === 201)?.answer?.body?.credentials;
        for (const x of a) {
          if (x.answer?.status === 200 && JSON.stringify(x.answer.body?.credentials) !== JSON.stringify(winner)) {
            p.push(`${x.replica}'s 200 carries other credentials than the 201 (${x.answer.body?.credentials?.username} vs ${winner?.username})`);
          }
        }
        return p;
      });
      const users = await retrying(() => f.rmq.usersStartingWith(`${bid}-`));
      if (winner) {
        if (users.length !== 1 || users[0] !== winner.username) tally.note(n, `RabbitMQ users for ${bid}: ${JSON.stringify(users)}, the 201 said ${winner.username}`);
        try {
          await safeClose(await amqpConnect(winner.uri as string));
        } catch (err) {
          tally.note(n, `the 201's credentials (${winner.username}) do not log in over AMQP: ${(err as Error).message}`);
        }
      } else if (users.length > 0) {
        tally.note(n, `no 201 but RabbitMQ users ${JSON.stringify(users)}`);
      }
      const gets = await f.set.fanout('GET', bindingPath(inst, bid));
      const shapes = new Set(gets.map((g) => `${outcome(g)} ${g.answer?.text ?? ''}`));
      if (shapes.size !== 1) tally.note(n, `GET binding differs across replicas: ${[...shapes].map((s) => s.slice(0, 120)).join(' | ')}`);
      else if (gets[0]!.answer?.status !== 200) tally.note(n, `GET binding: ${outcome(gets[0]!)}`);
      else if (winner && JSON.stringify(gets[0]!.answer.body.credentials) !== JSON.stringify(winner)) tally.note(n, 'GET binding serves other credentials than the 201');
    }
    tally.assertClean(ROUNDS);
    await assertNoOrphans(f.rmq, f.db, f.prefix, 'after the bind races:');
    await f.set.assertNoLeaks();
  });
});
