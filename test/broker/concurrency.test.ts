// Platforms retry and run requests in parallel. Whatever arrives at once, the answers must be
// the spec's (201 once, 200 with the same credentials for the rest, or 422 ConcurrencyError),
// and RabbitMQ must end up with exactly what the answers say: no extra users, no leftovers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OsbAnswer } from '../../testkit/osb-client.ts';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, expectError, expectStatus, ids, instancePath, provisionBody, roundTrip,
  safeClose, SMALL_PLAN_ID, STANDARD_PLAN_ID, startEnv, within, type Env,
} from './helpers.ts';

function tally(rs: OsbAnswer[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

describe('concurrent requests', () => {
  let env: Env;
  let inst: string; // plan standard: no per-user connection limit in the way

  before(async () => {
    env = await startEnv('conc');
    inst = env.id('inst');
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: provisionBody(STANDARD_PLAN_ID) }), 201, 'provision');
  });
  after(async () => {
    await env.cleanup();
  });

  it('10 concurrent identical provisions: one 201, the rest 200 (or 422 ConcurrencyError); one vhost', async () => {
    const id = env.id('prov');
    const rs = await Promise.all(Array.from({ length: 10 }, () => env.osb.call('PUT', instancePath(id), { body: provisionBody(SMALL_PLAN_ID) })));
    const t = tally(rs);
    assert.equal(t[201], 1, `exactly one 201: ${JSON.stringify(t)}`);
    for (const r of rs) {
      if (r.status === 422) expectError(r, 422, 'ConcurrencyError');
      else assert.ok(r.status === 200 || r.status === 201, `${r.status} ${r.text}`);
      if (r.status === 200) assert.equal(r.body.dashboard_url, rs.find((x) => x.status === 201)!.body.dashboard_url);
    }
    assert.ok(await env.rmq.vhostExists(id));
    expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids(SMALL_PLAN_ID)}`), 200, 'deprovision');
  });

  it('20 concurrent identical binds of one binding id: one 201, the rest 200 with the same credentials; one user', async () => {
    const bid = env.id('same');
    const rs = await Promise.all(Array.from({ length: 20 }, () => env.osb.call('PUT', bindingPath(inst, bid), { body: bindBody(STANDARD_PLAN_ID) })));
    const t = tally(rs);
    assert.equal(t[201], 1, `exactly one 201: ${JSON.stringify(t)}`);
    const created = rs.find((r) => r.status === 201)!.body.credentials;
    for (const r of rs) {
      if (r.status === 422) {
        expectError(r, 422, 'ConcurrencyError', 'concurrent bind');
        continue;
      }
      assert.ok(r.status === 200 || r.status === 201, `unexpected ${r.status}: ${r.text}`);
      assert.deepEqual(r.body.credentials, created, 'every success carries the same credentials');
    }
    assert.deepEqual(await env.rmq.usersStartingWith(`${bid}-`), [created.username], 'exactly one RabbitMQ user');
    const c = await amqpConnect(created.uri);
    await roundTrip(c.conn);
    await safeClose(c);
    // And a repeat now is a plain 200 with the same credentials.
    const again = await env.osb.call('PUT', bindingPath(inst, bid), { body: bindBody(STANDARD_PLAN_ID) });
    expectStatus(again, 200, 'repeat');
    assert.deepEqual(again.body.credentials, created);
  });

  it('20 concurrent binds with different ids: all 201, 20 distinct users that all work', async () => {
    const bids = Array.from({ length: 20 }, (_, i) => env.id(`many${i}`));
    const rs = await Promise.all(bids.map((bid) => env.osb.call('PUT', bindingPath(inst, bid), { body: bindBody(STANDARD_PLAN_ID) })));
    assert.deepEqual(tally(rs), { 201: 20 }, rs.filter((r) => r.status !== 201).map((r) => r.text).join('\n'));
    const creds = rs.map((r) => r.body.credentials);
    assert.equal(new Set(creds.map((c) => c.username)).size, 20, 'distinct usernames');
    assert.equal(new Set(creds.map((c) => c.password)).size, 20, 'distinct passwords');
    const users = await env.rmq.usersStartingWith(env.id('many'));
    assert.deepEqual(users.sort(), creds.map((c) => c.username).sort(), 'exactly these users exist in RabbitMQ');
    for (const c of creds) {
      const t = await amqpConnect(c.uri);
      await safeClose(t);
    }
  });

  it('10 concurrent unbinds of one binding: one 200 {}, the rest 410 {} (or 422 ConcurrencyError)', async () => {
    const bid = env.id('same');
    const rs = await Promise.all(Array.from({ length: 10 }, () => env.osb.call('DELETE', `${bindingPath(inst, bid)}?${ids(STANDARD_PLAN_ID)}`)));
    const t = tally(rs);
    assert.equal(t[200], 1, `exactly one 200: ${JSON.stringify(t)}`);
    for (const r of rs) {
      if (r.status === 422) expectError(r, 422, 'ConcurrencyError');
      else {
        assert.ok(r.status === 200 || r.status === 410, `${r.status} ${r.text}`);
        assert.deepEqual(r.body, {});
      }
    }
    assert.deepEqual(await env.rmq.usersStartingWith(`${bid}-`), []);
  });

  it('deprovision while binds are in flight: 200, and nothing of the instance is left in RabbitMQ', async () => {
    const id = env.id('race');
    expectStatus(await env.osb.call('PUT', instancePath(id), { body: provisionBody(STANDARD_PLAN_ID) }), 201, 'provision');
    // Some bindings exist and hold connections already.
    const early = [];
    for (let i = 0; i < 3; i++) {
      const r = await env.osb.call('PUT', bindingPath(id, `${id}-early${i}`), { body: bindBody(STANDARD_PLAN_ID) });
      expectStatus(r, 201, 'early bind');
      early.push({ creds: r.body.credentials, conn: await amqpConnect(r.body.credentials.uri) });
    }
    const binds = Array.from({ length: 15 }, (_, i) =>
      env.osb.call('PUT', bindingPath(id, `${id}-late${i}`), { body: bindBody(STANDARD_PLAN_ID) }),
    );
    await new Promise((res) => setTimeout(res, 5));
    const del = env.osb.call('DELETE', `${instancePath(id)}?${ids(STANDARD_PLAN_ID)}`);
    const more = Array.from({ length: 5 }, (_, i) =>
      env.osb.call('PUT', bindingPath(id, `${id}-after${i}`), { body: bindBody(STANDARD_PLAN_ID) }),
    );
    const [d, ...bs] = await Promise.all([del, ...binds, ...more]);
    if (process.env.WARREN_TEST_VERBOSE) console.log('binds during deprovision:', tally(bs));
    expectStatus(d!, 200, 'deprovision during binds');
    for (const b of bs) {
      // A bind either happened before the delete (201), or found the instance gone (404) or going (422).
      assert.ok([201, 404, 410, 422].includes(b.status), `bind during deprovision: ${b.status} ${b.text}`);
      if (b.status !== 201) expectError(b, b.status, b.status === 422 ? 'ConcurrencyError' : undefined, 'bind during deprovision');
    }
    assert.deepEqual(await env.rmq.usersStartingWith(`${id}-`), [], 'no binding user survived the deprovision');
    assert.equal(await env.rmq.vhostExists(id), false, 'the vhost is gone');
    for (const e of early) assert.ok(await within(e.conn.closed, 2000), `connection of ${e.creds.username} still open`);
    for (const b of bs.filter((x) => x.status === 201)) await amqpRefused(b.body.credentials.uri);
    // The store agrees with RabbitMQ: none of those bindings can be fetched, a new bind finds no instance.
    expectError(await env.osb.call('GET', instancePath(id)), 404, undefined, 'GET instance');
    expectError(await env.osb.call('GET', bindingPath(id, `${id}-late0`)), 404, undefined, 'GET binding');
    expectError(await env.osb.call('PUT', bindingPath(id, `${id}-later`), { body: bindBody(STANDARD_PLAN_ID) }), 404, undefined, 'bind afterwards');
    for (const e of early) await safeClose(e.conn);
  });

  it('binds and unbinds of different bindings interleaved: each answer matches RabbitMQ', async () => {
    const bids = Array.from({ length: 10 }, (_, i) => env.id(`mix${i}`));
    const first = await Promise.all(bids.map((bid) => env.osb.call('PUT', bindingPath(inst, bid), { body: bindBody(STANDARD_PLAN_ID) })));
    assert.deepEqual(tally(first), { 201: 10 });
    // Unbind the even ones while binding new ones.
    const ops = await Promise.all([
      ...bids.filter((_, i) => i % 2 === 0).map((bid) => env.osb.call('DELETE', `${bindingPath(inst, bid)}?${ids(STANDARD_PLAN_ID)}`)),
      ...Array.from({ length: 5 }, (_, i) => env.osb.call('PUT', bindingPath(inst, env.id(`mixnew${i}`)), { body: bindBody(STANDARD_PLAN_ID) })),
    ]);
    assert.deepEqual(tally(ops), { 200: 5, 201: 5 });
    const users = await env.rmq.usersStartingWith(env.id('mix'));
    const expected = [
      ...first.filter((_, i) => i % 2 === 1).map((r) => r.body.credentials.username),
      ...ops.filter((r) => r.status === 201).map((r) => r.body.credentials.username),
    ];
    assert.deepEqual(users.sort(), expected.sort());
  });
});
