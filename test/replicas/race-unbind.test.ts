// Three replicas on one PostgreSQL; the same unbind sent to all three at once, round after round.
// One 200, the others 410 (the binding is gone by the time they look); never a 5xx, and never a
// 410 in a round where no replica answered 200. Afterwards the user is gone, and every replica
// answers the binding's last_operation alike (200 succeeded: recent deletions live in the
// store, not in one process) and GET alike.
import { after, before, describe, it } from 'node:test';
import { bindBody, bindingPath, ids, instancePath, provisionBody, STANDARD_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { assertNoOrphans } from './helpers/orphans.ts';
import { count, outside, RaceTally, SCENARIO_MS } from './helpers/race-tally.ts';
import { outcome, type ReplicaAnswer } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';
import { retrying } from './helpers/retrying.ts';

const skip = await postgresSkipReason();

function sameEverywhere(answers: ReplicaAnswer[]): string | undefined {
  const shapes = new Set(answers.map((g) => `${outcome(g)} ${g.answer?.text ?? ''}`));
  return shapes.size === 1 ? undefined : [...answers].map((g) => `${g.replica}=${outcome(g)} ${g.answer?.text.slice(0, 100) ?? ''}`).join(' | ');
}

describe('replicas: the same unbind on every replica at once', { skip }, () => {
  let f: ReplicaFixture;
  let inst: string;
  before(async () => {
    f = await startReplicaFixture('runbind');
    inst = f.id('inst');
    const r = await f.set.lb.call('PUT', instancePath(inst), { body: provisionBody(STANDARD_PLAN_ID) });
    if (r.status !== 201) throw new Error(`provision: ${r.status} ${r.text}`);
  });
  after(async () => {
    await f?.close();
  });

  it(`${ROUNDS} rounds: one 200, the rest 410, user gone, last_operation and GET alike on every replica`, { timeout: SCENARIO_MS + 60_000 }, async () => {
    const tally = new RaceTally('unbind x3');
    for (let n = 0; n < ROUNDS && tally.inTime(); n++) {
      const bid = f.id(`u${n}`);
      const bound = await f.set.lb.call('PUT', bindingPath(inst, bid), { body: bindBody(STANDARD_PLAN_ID) });
      if (bound.status !== 201) {
        tally.note(n, `bind before the race answered ${bound.status} ${bound.text}`);
        continue;
      }
      const answers = await f.set.fanout('DELETE', `${bindingPath(inst, bid)}?${ids(STANDARD_PLAN_ID)}`);
      tally.round(n, answers, (_a, o) => {
        const p: string[] = [];
        if (count(o, '200') !== 1) p.push(`${count(o, '200')} answers 200, not exactly one`);
        const bad = outside(o, ['200', '410']);
        if (bad.length) p.push(`answers outside 200/410: ${bad.join(', ')}`);
        return p;
      });
      const users = await retrying(() => f.rmq.usersStartingWith(`${bid}-`));
      if (users.length > 0) tally.note(n, `RabbitMQ users left after unbind: ${JSON.stringify(users)}`);
      const polls = await f.set.fanout('GET', `${bindingPath(inst, bid)}/last_operation?${ids(STANDARD_PLAN_ID)}`);
      const differs = sameEverywhere(polls);
      if (differs) tally.note(n, `last_operation differs across replicas: ${differs}`);
      else if (polls[0]!.answer?.status !== 200 || polls[0]!.answer.body?.state !== 'succeeded') tally.note(n, `last_operation: ${outcome(polls[0]!)} ${polls[0]!.answer?.text}`);
      const gets = await f.set.fanout('GET', bindingPath(inst, bid));
      const getDiffers = sameEverywhere(gets);
      if (getDiffers) tally.note(n, `GET binding differs across replicas: ${getDiffers}`);
      else if (gets[0]!.answer?.status !== 404) tally.note(n, `GET of an unbound binding: ${outcome(gets[0]!)}, not 404`);
    }
    tally.assertClean(ROUNDS);
    await assertNoOrphans(f.rmq, f.db, f.prefix, 'after the unbind races:');
    await f.set.assertNoLeaks();
  });
});
