// The plan's limits are real: RabbitMQ refuses what the plan does not allow, and an update
// moves an instance (and its existing bindings) to the new plan's limits. maintenance_info is
// checked as the spec says: a different version is 422 MaintenanceInfoConflict, {} is not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, closeAllConnections, expectError, expectStatus, ids, instancePath,
  provisionBody, safeClose, SMALL_PLAN_ID, STANDARD_PLAN_ID, startEnv, type Env, type Tracked,
} from './helpers.ts';

const SMALL_VHOST = { 'max-connections': 20, 'max-queues': 100 };
const STANDARD_VHOST = { 'max-connections': 500, 'max-queues': 2000 };
const SMALL_USER = { 'max-connections': 5, 'max-channels': 64 };
const REFUSED = /ConnectionClose|limit|NOT_ALLOWED|530/i;

describe('plan limits and plan updates', () => {
  let env: Env;
  let inst: string;
  const bindings: Array<Record<string, any>> = [];

  async function bind(tag: string): Promise<Record<string, any>> {
    const r = await env.osb.call('PUT', bindingPath(inst, env.id(tag)), { body: bindBody(SMALL_PLAN_ID) });
    expectStatus(r, 201, `bind ${tag}`);
    bindings.push(r.body.credentials);
    return r.body.credentials;
  }

  async function openN(uri: string, n: number): Promise<Tracked[]> {
    const out: Tracked[] = [];
    for (let i = 0; i < n; i++) out.push(await amqpConnect(uri));
    return out;
  }

  before(async () => {
    env = await startEnv('lim');
    inst = env.id('inst');
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) }), 201, 'provision');
  });
  after(async () => {
    await env.cleanup();
  });

  it('every provision and every update sets ALL of the plan\'s vhost limits (8 instances)', async () => {
    // One instance is not enough to see it: a lost limit shows up in some provisions only.
    const many = Array.from({ length: 8 }, (_, i) => env.id(`many${i}`));
    const bad: string[] = [];
    await Promise.all(
      many.map(async (id) => {
        expectStatus(await env.osb.call('PUT', instancePath(id), { body: provisionBody(SMALL_PLAN_ID) }), 201, `provision ${id}`);
        const afterProvision = await env.rmq.vhostLimits(id);
        const update = { service_id: bindBody().service_id, plan_id: STANDARD_PLAN_ID };
        expectStatus(await env.osb.call('PATCH', instancePath(id), { body: update }), 200, `update ${id}`);
        const afterUpdate = await env.rmq.vhostLimits(id);
        expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids(STANDARD_PLAN_ID)}`), 200, `deprovision ${id}`);
        const same = (a: Record<string, number>, b: Record<string, number>) =>
          a['max-connections'] === b['max-connections'] && a['max-queues'] === b['max-queues'] && Object.keys(a).length === 2;
        if (!same(afterProvision, SMALL_VHOST) || !same(afterUpdate, STANDARD_VHOST)) {
          bad.push(`${id}: after provision ${JSON.stringify(afterProvision)}, after update ${JSON.stringify(afterUpdate)}`);
        }
      }),
    );
    assert.ok(bad.length === 0, `vhost limits lost (small is 20/100, standard 500/2000):\n${bad.join('\n')}`);
  });

  it('"small": a binding may hold 5 connections; the 6th is refused while 5 are open', async () => {
    const a = await bind('a');
    const open: Tracked[] = [];
    try {
      open.push(...(await openN(a.uri, 5)));
      const err = await amqpRefused(a.uri);
      // RabbitMQ answers a limit with connection.close during the handshake.
      assert.match(err.message, REFUSED, err.message);
      // The limit, not a broken user: with one closed, a new one is accepted.
      await safeClose(open.pop());
      open.push(await amqpConnect(a.uri));
      // The refused attempt did not disturb the open ones.
      assert.ok(open.every((c) => !c.isClosed()));
    } finally {
      await Promise.all(open.map(safeClose));
    }
  });

  it('"small": the vhost takes 20 connections across bindings; the 21st is refused', async () => {
    const all: Tracked[] = [];
    try {
      for (const tag of ['b', 'c', 'd', 'e']) {
        const c = await bind(tag);
        all.push(...(await openN(c.uri, 5)));
      }
      assert.equal(all.length, 20);
      const f = await bind('f');
      // User f holds no connection at all: only the vhost's limit can refuse it.
      const err = await amqpRefused(f.uri);
      assert.match(err.message, REFUSED, err.message);
      await safeClose(all.pop());
      await safeClose(await amqpConnect(f.uri));
    } finally {
      await Promise.all(all.map(safeClose));
    }
  });

  it('update "small" -> "standard": 200; vhost limits, operator policy and the bindings\' user limits follow', async () => {
    const a = bindings[0]!;
    const live = await amqpConnect(a.uri);
    const six: Tracked[] = [];
    try {
    for (const c of bindings) assert.deepEqual(await env.rmq.userLimits(c.username), SMALL_USER, c.username);

    const r = await env.osb.call('PATCH', instancePath(inst), {
      body: { service_id: bindBody().service_id, plan_id: STANDARD_PLAN_ID, previous_values: { plan_id: SMALL_PLAN_ID } },
    });
    expectStatus(r, 200, 'update');

    assert.deepEqual(await env.rmq.vhostLimits(inst), STANDARD_VHOST);
    const policies = await env.rmq.operatorPolicies(inst);
    assert.deepEqual(policies.map((p) => p.name), ['warren-queue-cap']);
    for (const c of bindings) assert.deepEqual(await env.rmq.userLimits(c.username), {}, `user limits of ${c.username} removed`);
    const get = await env.osb.call('GET', instancePath(inst));
    expectStatus(get, 200, 'get instance');
    assert.equal(get.body.plan_id, STANDARD_PLAN_ID);

    // Apps see it: the old connection lives on, the password is the same, and 6 connections now work.
    assert.equal(live.isClosed(), false, 'a live connection survived the update');
    six.push(...(await openN(a.uri, 6)));
    } finally {
      await Promise.all([live, ...six].map(safeClose));
    }
  });

  it('after the update, an identical repeat bind (with the instance\'s current plan_id) is 200 with the same credentials', async () => {
    const a = bindings[0]!;
    const get = await env.osb.call('GET', bindingPath(inst, env.id('a')));
    expectStatus(get, 200, 'GET binding after update');
    assert.deepEqual(get.body.credentials, a);
    // Platforms send the instance's plan_id with every bind; after the update that is "standard".
    const again = await env.osb.call('PUT', bindingPath(inst, env.id('a')), { body: bindBody(STANDARD_PLAN_ID) });
    expectStatus(again, 200, 'repeat bind after update');
    assert.deepEqual(again.body.credentials, a);
  });

  it('maintenance_info with another version: 422 MaintenanceInfoConflict, and nothing changes', async () => {
    const limitsBefore = await env.rmq.vhostLimits(inst);
    const r = await env.osb.call('PATCH', instancePath(inst), {
      body: { service_id: bindBody().service_id, plan_id: SMALL_PLAN_ID, maintenance_info: { version: '2.0.0' } },
    });
    expectError(r, 422, 'MaintenanceInfoConflict', 'update with maintenance_info 2.0.0');
    assert.deepEqual(await env.rmq.vhostLimits(inst), limitsBefore, 'the plan was not changed');
    assert.equal((await env.osb.call('GET', instancePath(inst))).body.plan_id, STANDARD_PLAN_ID);

    const newId = env.id('mi');
    const p = await env.osb.call('PUT', instancePath(newId), { body: provisionBody(SMALL_PLAN_ID, { maintenance_info: { version: '0.9.0' } }) });
    expectError(p, 422, 'MaintenanceInfoConflict', 'provision with maintenance_info 0.9.0');
    assert.equal(await env.rmq.vhostExists(newId), false, 'nothing created in RabbitMQ');
    expectError(await env.osb.call('GET', instancePath(newId)), 404, undefined, 'nothing in the store');
  });

  it('maintenance_info {} or the plan\'s own version: no conflict', async () => {
    const same = await env.osb.call('PATCH', instancePath(inst), {
      body: { service_id: bindBody().service_id, maintenance_info: { version: '1.0.0' } },
    });
    expectStatus(same, 200, 'update with the plan\'s version');
    const empty = await env.osb.call('PATCH', instancePath(inst), { body: { service_id: bindBody().service_id, maintenance_info: {} } });
    expectStatus(empty, 200, 'update with maintenance_info {}');

    const newId = env.id('mi0');
    const p = await env.osb.call('PUT', instancePath(newId), { body: provisionBody(SMALL_PLAN_ID, { maintenance_info: {} }) });
    expectStatus(p, 201, 'provision with maintenance_info {}');
    expectStatus(await env.osb.call('DELETE', `${instancePath(newId)}?${ids(SMALL_PLAN_ID)}`), 200, 'deprovision');
  });

  it('update "standard" -> "small": the small limits come back, the operator policy goes, user limits return', async () => {
    const r = await env.osb.call('PATCH', instancePath(inst), { body: { service_id: bindBody().service_id, plan_id: SMALL_PLAN_ID } });
    expectStatus(r, 200, 'downgrade');
    assert.deepEqual(await env.rmq.vhostLimits(inst), SMALL_VHOST);
    assert.deepEqual(await env.rmq.operatorPolicies(inst), []);
    for (const c of bindings) assert.deepEqual(await env.rmq.userLimits(c.username), SMALL_USER, c.username);
    const a = bindings[0]!;
    const open: Tracked[] = [];
    try {
      open.push(...(await openN(a.uri, 5)));
      await amqpRefused(a.uri);
    } finally {
      await Promise.all(open.map(safeClose));
      await closeAllConnections();
    }
  });
});
