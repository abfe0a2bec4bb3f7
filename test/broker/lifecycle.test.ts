// The whole life of an instance and its bindings, as a platform drives it and an app lives it:
// catalog, provision, bind, connect, repeat, conflict, fetch, unbind, deprovision, poll. Every
// step is checked in what warren answers AND in RabbitMQ itself (management API, AMQP).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, DEFAULT_SERVICE_ID, expectError, expectStatus, ids, instancePath,
  provisionBody, roundTrip, safeClose, SMALL_PLAN_ID, STANDARD_PLAN_ID, startEnv, within, type Env, type Tracked,
} from './helpers.ts';

describe('lifecycle: catalog, provision, bind, unbind, deprovision', () => {
  let env: Env;
  let inst: string; // plan small
  let std: string; // plan standard
  let firstProvisionBody: unknown;
  let creds: Record<string, any>;
  let conn1: Tracked;
  const passwordsSeen = new Set<string>();

  before(async () => {
    // debug: the most verbose level an operator would use; secrets must stay out of it too.
    env = await startEnv('life', { env: { WARREN_LOG_LEVEL: 'debug' } });
    inst = env.id('inst');
    std = env.id('std');
  });
  after(async () => {
    await env.cleanup();
  });

  it('GET /v2/catalog: 200 JSON with the service and both plans', async () => {
    const r = await env.osb.call('GET', '/v2/catalog');
    expectStatus(r, 200, 'catalog');
    assert.ok(Array.isArray(r.body.services));
    const svc = r.body.services.find((s: any) => s.id === DEFAULT_SERVICE_ID);
    assert.ok(svc, 'the default service is in the catalog');
    for (const f of ['id', 'name', 'description', 'bindable', 'plans']) assert.ok(f in svc, `service.${f}`);
    assert.equal(svc.bindable, true);
    assert.equal(svc.instances_retrievable, true);
    assert.equal(svc.bindings_retrievable, true);
    assert.equal(svc.plan_updateable, true);
    const small = svc.plans.find((p: any) => p.id === SMALL_PLAN_ID);
    const standard = svc.plans.find((p: any) => p.id === STANDARD_PLAN_ID);
    assert.equal(small?.name, 'small');
    assert.equal(standard?.name, 'standard');
    for (const p of [small, standard]) {
      for (const f of ['id', 'name', 'description']) assert.equal(typeof p[f], 'string', `plan.${f}`);
      assert.deepEqual(p.maintenance_info?.version, '1.0.0');
      assert.ok(!('rabbitmq' in p), 'the plan\'s RabbitMQ settings are not part of the catalog');
    }
    assert.equal(standard.binding_rotatable, true);
  });

  it('provision "small": 201 with dashboard_url; the vhost exists with the plan\'s limits', async () => {
    const r = await env.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
    expectStatus(r, 201, 'provision');
    assert.equal(typeof r.body.dashboard_url, 'string');
    assert.doesNotThrow(() => new URL(r.body.dashboard_url), 'dashboard_url is a URL');
    assert.ok(r.body.dashboard_url.includes(inst), `dashboard_url names the vhost: ${r.body.dashboard_url}`);
    firstProvisionBody = r.body;
    assert.ok(await env.rmq.vhostExists(inst), 'vhost created in RabbitMQ');
    assert.deepEqual(await env.rmq.vhostLimits(inst), { 'max-connections': 20, 'max-queues': 100 });
    assert.deepEqual(await env.rmq.operatorPolicies(inst), [], 'plan small has no operator policy');
  });

  it('provision "standard": the vhost gets the standard limits and the operator policy', async () => {
    const r = await env.osb.call('PUT', instancePath(std), { body: provisionBody(STANDARD_PLAN_ID) });
    expectStatus(r, 201, 'provision standard');
    assert.deepEqual(await env.rmq.vhostLimits(std), { 'max-connections': 500, 'max-queues': 2000 });
    const policies = await env.rmq.operatorPolicies(std);
    assert.equal(policies.length, 1, JSON.stringify(policies));
    assert.equal(policies[0]!.name, 'warren-queue-cap');
    assert.equal(policies[0]!.pattern, '.*');
    assert.equal(policies[0]!['apply-to'], 'queues');
    assert.deepEqual(policies[0]!.definition, { 'max-length': 1000000 });
  });

  it('an identical provision again: 200 with the same body', async () => {
    const r = await env.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
    expectStatus(r, 200, 'repeat provision');
    assert.deepEqual(r.body, firstProvisionBody);
    // Key order and unknown fields do not make it different.
    const reordered = { space_guid: 'space-guid-1', organization_guid: 'org-guid-1', plan_id: SMALL_PLAN_ID, service_id: DEFAULT_SERVICE_ID, some_future_field: 1 };
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: reordered }), 200, 'reordered repeat');
  });

  it('provision of the same id with different attributes: 409, and RabbitMQ is unchanged', async () => {
    const limitsBefore = await env.rmq.vhostLimits(inst);
    for (const [what, body] of [
      ['another plan', provisionBody(STANDARD_PLAN_ID)],
      ['another space', provisionBody(SMALL_PLAN_ID, { space_guid: 'space-guid-2' })],
      ['another organization', provisionBody(SMALL_PLAN_ID, { organization_guid: 'org-guid-2' })],
      ['parameters', provisionBody(SMALL_PLAN_ID, { parameters: { x: 1 } })],
    ] as const) {
      const r = await env.osb.call('PUT', instancePath(inst), { body });
      expectError(r, 409, undefined, what);
    }
    assert.deepEqual(await env.rmq.vhostLimits(inst), limitsBefore);
    assert.deepEqual(await env.rmq.operatorPolicies(inst), []);
  });

  it('GET the instance: 200 with service_id and plan_id', async () => {
    const r = await env.osb.call('GET', instancePath(inst));
    expectStatus(r, 200, 'get instance');
    assert.equal(r.body.service_id, DEFAULT_SERVICE_ID);
    assert.equal(r.body.plan_id, SMALL_PLAN_ID);
    assert.equal(r.body.dashboard_url, (firstProvisionBody as any).dashboard_url);
  });

  it('bind: 201 with credentials; the user exists with the plan\'s permissions and limits', async () => {
    const r = await env.osb.call('PUT', bindingPath(inst, env.id('b1')), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) });
    expectStatus(r, 201, 'bind');
    creds = r.body.credentials;
    assert.equal(typeof creds?.uri, 'string');
    assert.equal(typeof creds.username, 'string');
    assert.equal(typeof creds.password, 'string');
    assert.ok(creds.password.length >= 16, 'a real password');
    assert.equal(creds.vhost, inst);
    passwordsSeen.add(creds.password);
    assert.ok(await env.rmq.userExists(creds.username), 'the binding\'s RabbitMQ user exists');
    const perms = await env.rmq.permissions(inst, creds.username);
    assert.equal(perms.status, 200, perms.text);
    assert.deepEqual(
      { configure: perms.body.configure, write: perms.body.write, read: perms.body.read },
      { configure: '.*', write: '.*', read: '.*' },
    );
    assert.deepEqual(await env.rmq.userLimits(creds.username), { 'max-connections': 5, 'max-channels': 64 });
    // The user may use its own vhost only: no permission anywhere else.
    const userPerms = (await env.rmq.get(`users/${encodeURIComponent(creds.username)}/permissions`)) as Array<{ vhost: string }>;
    assert.deepEqual(userPerms.map((p) => p.vhost), [inst]);
  });

  it('an app connects with credentials.uri and can declare, publish and consume', async () => {
    conn1 = await amqpConnect(creds.uri);
    await roundTrip(conn1.conn);
  });

  it('an identical bind again: 200 with the SAME credentials; the password in RabbitMQ is unchanged', async () => {
    const r = await env.osb.call('PUT', bindingPath(inst, env.id('b1')), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) });
    expectStatus(r, 200, 'repeat bind');
    assert.deepEqual(r.body.credentials, creds);
    // The old connection is still up and works; a new login with the same password works.
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(conn1.isClosed(), false, 'the live connection survived the repeat');
    await roundTrip(conn1.conn);
    const again = await amqpConnect(creds.uri);
    await roundTrip(again.conn);
    await safeClose(again);
  });

  it('bind of the same id with different parameters: 409; the live connection is unaffected', async () => {
    for (const [what, body] of [
      ['parameters', bindBody(SMALL_PLAN_ID, { app_guid: 'app-1', parameters: { role: 'admin' } })],
      ['app_guid', bindBody(SMALL_PLAN_ID, { app_guid: 'app-2' })],
    ] as const) {
      const r = await env.osb.call('PUT', bindingPath(inst, env.id('b1')), { body });
      expectError(r, 409, undefined, what);
    }
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(conn1.isClosed(), false, 'the live connection survived the conflicting binds');
    await roundTrip(conn1.conn);
    const again = await amqpConnect(creds.uri);
    await safeClose(again);
  });

  it('GET the binding: 200 with the same credentials', async () => {
    const r = await env.osb.call('GET', bindingPath(inst, env.id('b1')));
    expectStatus(r, 200, 'get binding');
    assert.deepEqual(r.body.credentials, creds);
    const lo = await env.osb.call('GET', `${bindingPath(inst, env.id('b1'))}/last_operation`);
    expectStatus(lo, 200, 'binding last_operation');
    assert.equal(lo.body.state, 'succeeded');
  });

  it('unbind: 200 {}; the live connection closes promptly, the user is gone, the old credentials are refused', async () => {
    const t0 = Date.now();
    const r = await env.osb.call('DELETE', `${bindingPath(inst, env.id('b1'))}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 200, 'unbind');
    assert.deepEqual(r.body, {});
    assert.ok(await within(conn1.closed, 2000), 'the app\'s connection was not closed within 2 s of unbind');
    const closedAt = await conn1.closed;
    assert.ok(closedAt - t0 <= 2000, `closed ${closedAt - t0} ms after unbind`);
    assert.equal(await env.rmq.userExists(creds.username), false, 'user deleted in RabbitMQ');
    assert.deepEqual(await env.rmq.userConnections(creds.username), []);
    const err = await amqpRefused(creds.uri);
    assert.match(String(err.message), /ACCESS_REFUSED|403|refused/i);
    const get = await env.osb.call('GET', bindingPath(inst, env.id('b1')));
    expectError(get, 404, undefined, 'GET of an unbound binding');
  });

  it('unbind again: 410 {}', async () => {
    const r = await env.osb.call('DELETE', `${bindingPath(inst, env.id('b1'))}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 410, 'unbind again');
    assert.deepEqual(r.body, {});
  });

  it('after the unbind: binding last_operation is 200 "succeeded"; binding the same id again gives NEW credentials', async () => {
    const lo = await env.osb.call('GET', `${bindingPath(inst, env.id('b1'))}/last_operation`);
    expectStatus(lo, 200, 'binding last_operation after unbind');
    assert.equal(lo.body.state, 'succeeded');
    const r = await env.osb.call('PUT', bindingPath(inst, env.id('b1')), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) });
    expectStatus(r, 201, 'bind again after unbind');
    assert.notEqual(r.body.credentials.password, creds.password, 'a fresh password');
    assert.notEqual(r.body.credentials.username, creds.username, 'a fresh user');
    passwordsSeen.add(r.body.credentials.password);
    const c = await amqpConnect(r.body.credentials.uri);
    await safeClose(c);
    await amqpRefused(creds.uri);
    expectStatus(await env.osb.call('DELETE', `${bindingPath(inst, env.id('b1'))}?${ids(SMALL_PLAN_ID)}`), 200, 'unbind');
  });

  it('deprovision with two bindings still connected: 200 {}; both connections close; users and vhost are gone', async () => {
    const bound: Array<{ creds: Record<string, any>; conn: Tracked }> = [];
    for (const tag of ['b2', 'b3']) {
      const r = await env.osb.call('PUT', bindingPath(inst, env.id(tag)), { body: bindBody(SMALL_PLAN_ID) });
      expectStatus(r, 201, `bind ${tag}`);
      passwordsSeen.add(r.body.credentials.password);
      const conn = await amqpConnect(r.body.credentials.uri);
      await roundTrip(conn.conn);
      bound.push({ creds: r.body.credentials, conn });
    }
    assert.notEqual(bound[0]!.creds.username, bound[1]!.creds.username, 'one user per binding');
    assert.notEqual(bound[0]!.creds.password, bound[1]!.creds.password, 'one password per binding');

    const r = await env.osb.call('DELETE', `${instancePath(inst)}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 200, 'deprovision');
    assert.deepEqual(r.body, {});
    for (const b of bound) {
      assert.ok(await within(b.conn.closed, 2000), `connection of ${b.creds.username} not closed within 2 s`);
      assert.equal(await env.rmq.userExists(b.creds.username), false, `user ${b.creds.username} deleted`);
      await amqpRefused(b.creds.uri);
    }
    assert.equal(await env.rmq.vhostExists(inst), false, 'vhost deleted');
    expectError(await env.osb.call('GET', instancePath(inst)), 404, undefined, 'GET of a deprovisioned instance');
    expectError(await env.osb.call('GET', bindingPath(inst, env.id('b2'))), 404, undefined, 'GET of a binding of a deprovisioned instance');
  });

  it('deprovision again: 410 {}', async () => {
    const r = await env.osb.call('DELETE', `${instancePath(inst)}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 410, 'deprovision again');
    assert.deepEqual(r.body, {});
  });

  it('last_operation after the deprovision: 200 "succeeded" (not 410, not 404)', async () => {
    const r = await env.osb.call('GET', `${instancePath(inst)}/last_operation`);
    expectStatus(r, 200, 'last_operation');
    assert.equal(r.body.state, 'succeeded');
    const withOp = await env.osb.call('GET', `${instancePath(inst)}/last_operation?${ids(SMALL_PLAN_ID)}&operation=whatever`);
    expectStatus(withOp, 200, 'last_operation with an operation');
    assert.equal(withOp.body.state, 'succeeded');
  });

  it('deprovision of the "standard" instance removes its vhost and operator policy', async () => {
    const r = await env.osb.call('DELETE', `${instancePath(std)}?${ids(STANDARD_PLAN_ID)}`);
    expectStatus(r, 200, 'deprovision standard');
    assert.equal(await env.rmq.vhostExists(std), false);
    const op = await env.rmq.call('GET', `operator-policies/${encodeURIComponent(std)}`);
    assert.ok(op.status === 404 || (op.status === 200 && op.body.length === 0), op.text);
  });

  it('unbind answers 200 every time, also while the app is connected (16 bindings, 2 connections each)', async () => {
    const id = env.id('unbinds');
    expectStatus(await env.osb.call('PUT', instancePath(id), { body: provisionBody(STANDARD_PLAN_ID) }), 201, 'provision');
    const failures: string[] = [];
    for (let i = 0; i < 16; i++) {
      const bid = env.id(`u${i}`);
      const b = await env.osb.call('PUT', bindingPath(id, bid), { body: bindBody(STANDARD_PLAN_ID) });
      expectStatus(b, 201, `bind ${i}`);
      passwordsSeen.add(b.body.credentials.password);
      const conns = [await amqpConnect(b.body.credentials.uri), await amqpConnect(b.body.credentials.uri)];
      const r = await env.osb.call('DELETE', `${bindingPath(id, bid)}?${ids(STANDARD_PLAN_ID)}`);
      if (r.status !== 200) failures.push(`unbind ${i}: ${r.status} ${r.text}`);
      for (const c of conns) assert.ok(await within(c.closed, 2000), `unbind ${i}: a connection stayed open`);
      assert.equal(await env.rmq.userExists(b.body.credentials.username), false, `unbind ${i}: user still there`);
    }
    expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids(STANDARD_PLAN_ID)}`), 200, 'deprovision');
    assert.ok(failures.length === 0, `unbinds that did not answer 200 although the user and its connections were gone:\n${failures.join('\n')}`);
  });

  it('no secret reached the log (binding passwords, broker password, encryption key, admin login)', async () => {
    const code = await env.warren.stop({ keepData: true });
    assert.equal(code, 0, 'warren exits 0 on SIGTERM');
    const key = readFileSync(join(env.warren.dataDir, 'encryption.key'), 'utf8').trim();
    const secrets = new Map<string, string>([
      ['broker password', env.warren.password],
      ['broker Authorization header', Buffer.from(`${env.warren.username}:${env.warren.password}`).toString('base64')],
      ['RabbitMQ admin Authorization header', Buffer.from('guest:guest').toString('base64')],
      ['encryption key', key],
    ]);
    for (const p of passwordsSeen) secrets.set(`binding password ${p.slice(0, 4)}...`, p);
    assert.ok(passwordsSeen.size >= 3);
    const logs = env.warren.logs;
    assert.ok(logs.some((l) => l.includes('"audit":"bound"')), 'the audit log was collected');
    for (const line of logs) {
      for (const [what, secret] of secrets) assert.ok(!line.includes(secret), `the log holds the ${what}: ${line}`);
      assert.doesNotMatch(line, /"password"\s*:\s*"(?!\[redacted\])/, `a password field in the log: ${line}`);
    }
  });
});

// The same lifecycle must never leave anything of its own in RabbitMQ: checked by the cleanup above.
