// The same-id race for the instance operations left: the same plan update, and the same
// deprovision, sent to three replicas on one PostgreSQL at once, round after round. An update
// answers 200 (or 422 ConcurrencyError), never a 5xx, and RabbitMQ ends up with the new plan's
// limits; a deprovision answers 200 once and 410 elsewhere, the vhost is gone, and every replica
// answers the instance's last_operation alike.
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SERVICE_ID, ids, instancePath, provisionBody, SMALL_PLAN_ID, STANDARD_PLAN_ID } from '../broker/helpers.ts';
import { startReplicaFixture, ROUNDS, type ReplicaFixture } from './helpers/fixture.ts';
import { assertNoOrphans } from './helpers/orphans.ts';
import { count, outside, RaceTally, SCENARIO_MS } from './helpers/race-tally.ts';
import { outcome, type ReplicaAnswer } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';
import { retrying } from './helpers/retrying.ts';

const skip = await postgresSkipReason();
/** Each plan's vhost connection limit in the default catalog. */
const MAX_CONNECTIONS: Record<string, number> = { [SMALL_PLAN_ID]: 20, [STANDARD_PLAN_ID]: 500 };

function differs(answers: ReplicaAnswer[]): string | undefined {
  const shapes = new Set(answers.map((g) => `${outcome(g)} ${g.answer?.text ?? ''}`));
  return shapes.size === 1 ? undefined : answers.map((g) => `${g.replica}=${outcome(g)} ${g.answer?.text.slice(0, 100) ?? ''}`).join(' | ');
}

describe('replicas: the same update and the same deprovision on every replica at once', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    f = await startReplicaFixture('rupd');
  });
  after(async () => {
    await f?.close();
  });

  it(`${ROUNDS} rounds of one plan update: 200 or 422 ConcurrencyError, the new plan's limits in RabbitMQ, GET alike`, { timeout: SCENARIO_MS + 60_000 }, async () => {
    const inst = f.id('u');
    const made = await f.set.lb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
    if (made.status !== 201) throw new Error(`provision: ${made.status} ${made.text}`);
    const tally = new RaceTally('update x3');
    let plan = SMALL_PLAN_ID;
    for (let n = 0; n < ROUNDS && tally.inTime(); n++) {
      const target = plan === SMALL_PLAN_ID ? STANDARD_PLAN_ID : SMALL_PLAN_ID;
      const body = { service_id: DEFAULT_SERVICE_ID, plan_id: target, previous_values: { plan_id: plan, service_id: DEFAULT_SERVICE_ID } };
      const answers = await f.set.fanout('PATCH', instancePath(inst), body);
      tally.round(n, answers, (_a, o) => {
        const p: string[] = [];
        if (count(o, '200') < 1) p.push('no replica answered 200');
        const bad = outside(o, ['200', '422 ConcurrencyError']);
        if (bad.length) p.push(`answers outside 200/422 ConcurrencyError: ${bad.join(', ')}`);
        return p;
      });
      plan = target;
      const limits = await retrying(() => f.rmq.vhostLimits(inst));
      if (limits['max-connections'] !== MAX_CONNECTIONS[target]) tally.note(n, `vhost max-connections ${limits['max-connections']}, the plan says ${MAX_CONNECTIONS[target]}`);
      const gets = await f.set.fanout('GET', instancePath(inst));
      const d = differs(gets);
      if (d) tally.note(n, `GET instance differs across replicas: ${d}`);
      else if (gets[0]!.answer?.status !== 200 || gets[0]!.answer.body?.plan_id !== target) tally.note(n, `GET instance after the update: ${outcome(gets[0]!)} ${gets[0]!.answer?.text}`);
    }
    tally.assertClean(ROUNDS);
    const gone = await f.set.lb.call('DELETE', `${instancePath(inst)}?${ids(plan)}`);
    if (gone.status !== 200) throw new Error(`deprovision: ${gone.status} ${gone.text}`);
    await assertNoOrphans(f.rmq, f.db, f.prefix, 'after the update races:');
    await f.set.assertNoLeaks();
  });

  it(`${ROUNDS} rounds of one deprovision: one 200, the rest 410, vhost gone, last_operation alike`, { timeout: SCENARIO_MS + 60_000 }, async () => {
    const tally = new RaceTally('deprovision x3');
    const q = ids(SMALL_PLAN_ID);
    for (let n = 0; n < ROUNDS && tally.inTime(); n++) {
      const inst = f.id(`d${n}`);
      const made = await f.set.lb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
      if (made.status !== 201) {
        tally.note(n, `provision before the race answered ${made.status} ${made.text}`);
        continue;
      }
      const answers = await f.set.fanout('DELETE', `${instancePath(inst)}?${q}`);
      tally.round(n, answers, (_a, o) => {
        const p: string[] = [];
        if (count(o, '200') !== 1) p.push(`${count(o, '200')} answers 200, not exactly one`);
        const bad = outside(o, ['200', '410']);
        if (bad.length) p.push(`answers outside 200/410: ${bad.join(', ')}`);
        return p;
      });
      if (await retrying(() => f.rmq.vhostExists(inst))) tally.note(n, `vhost ${inst} left after the deprovision`);
      const polls = await f.set.fanout('GET', `${instancePath(inst)}/last_operation?${q}`);
      const d = differs(polls);
      if (d) tally.note(n, `last_operation differs across replicas: ${d}`);
      else if (polls[0]!.answer?.status !== 200 || polls[0]!.answer.body?.state !== 'succeeded') tally.note(n, `last_operation after the deprovision: ${outcome(polls[0]!)} ${polls[0]!.answer?.text}`);
    }
    tally.assertClean(ROUNDS);
    await assertNoOrphans(f.rmq, f.db, f.prefix, 'after the deprovision races:');
    await f.set.assertNoLeaks();
  });
});
