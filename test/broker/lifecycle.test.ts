// The whole life of an instance and its bindings, as a platform drives it and an app lives it:
// catalog, provision, bind, connect, repeat, conflict, fetch, unbind, deprovision, poll. Every
// step is checked in what warren answers AND in RabbitMQ itself (management API, AMQP).
// Each test provisions and binds what it needs under its own ids (one warren for the file), so
// any one of them runs alone (--test-name-pattern) and a failure does not cascade.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, bound, DEFAULT_SERVICE_ID, expectError, expectStatus, ids, instancePath,
  provisionBody, provisioned, roundTrip, safeClose, SMALL_PLAN_ID, STANDARD_PLAN_ID, startEnv, within, type Env, type Tracked,
} from './helpers.ts';

describe('lifecycle: catalog, provision, bind, unbind, deprovision', () => {
  let env: Env;

  before(async () => {
    env = await startEnv('life');
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
    const inst = env.id('small');
    const r = await env.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
    expectStatus(r, 201, 'provision');
    assert.equal(typeof r.body.dashboard_url, 'string');
    assert.doesNotThrow(() => new URL(r.body.dashboard_url), 'dashboard_url is a URL');
    assert.ok(r.body.dashboard_url.includes(inst), `dashboard_url names the vhost: ${r.body.dashboard_url}`);
    assert.ok(await env.rmq.vhostExists(inst), 'vhost created in RabbitMQ');
    assert.deepEqual(await env.rmq.vhostLimits(inst), { 'max-connections': 20, 'max-queues': 100 });
    assert.deepEqual(await env.rmq.operatorPolicies(inst), [], 'plan small has no operator policy');
  });

  it('provision "standard": the vhost gets the standard limits and the operator policy', async () => {
    const std = env.id('standard');
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
    const { id: inst, body: firstProvisionBody } = await provisioned(env, 'repeat');
    const r = await env.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) });
    expectStatus(r, 200, 'repeat provision');
    assert.deepEqual(r.body, firstProvisionBody);
    // Key order and unknown fields do not make it different.
    const reordered = { space_guid: 'space-guid-1', organization_guid: 'org-guid-1', plan_id: SMALL_PLAN_ID, service_id: DEFAULT_SERVICE_ID, some_future_field: 1 };
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: reordered }), 200, 'reordered repeat');
  });

  it('provision of the same id with different attributes: 409, and RabbitMQ is unchanged', async () => {
    const { id: inst } = await provisioned(env, 'conflict');
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
    const { id: inst, body: provisionAnswer } = await provisioned(env, 'get');
    const r = await env.osb.call('GET', instancePath(inst));
    expectStatus(r, 200, 'get instance');
    assert.equal(r.body.service_id, DEFAULT_SERVICE_ID);
    assert.equal(r.body.plan_id, SMALL_PLAN_ID);
    assert.equal(r.body.dashboard_url, provisionAnswer.dashboard_url);
  });

  it('bind: 201 with credentials; the user exists with the plan\'s permissions and limits', async () => {
    const { id: inst } = await provisioned(env, 'bind');
    const r = await env.osb.call('PUT', bindingPath(inst, env.id('bind-b')), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) });
    expectStatus(r, 201, 'bind');
    const creds = r.body.credentials;
    assert.equal(typeof creds?.uri, 'string');
    assert.equal(typeof creds.username, 'string');
    assert.equal(typeof creds.password, 'string');
    assert.ok(creds.password.length >= 16, 'a real password');
    assert.equal(creds.vhost, inst);
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
    const { id: inst } = await provisioned(env, 'connect');
    const { credentials } = await bound(env, inst, 'connect-b');
    const conn = await amqpConnect(credentials.uri);
    await roundTrip(conn.conn);
    await safeClose(conn);
  });

  /** An instance with one binding (app-1) and an app connected with its credentials. */
  async function connectedBinding(tag: string): Promise<{ inst: string; binding: string; creds: Record<string, any>; conn1: Tracked }> {
    const { id: inst } = await provisioned(env, tag);
    const { id: binding, credentials: creds } = await bound(env, inst, `${tag}-b`, SMALL_PLAN_ID, { app_guid: 'app-1' });
    return { inst, binding, creds, conn1: await amqpConnect(creds.uri) };
  }

  it('an identical bind again: 200 with the SAME credentials; the password in RabbitMQ is unchanged', async () => {
    const { inst, binding, creds, conn1 } = await connectedBinding('rebind');
    const r = await env.osb.call('PUT', bindingPath(inst, binding), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) });
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
    const { inst, binding, creds, conn1 } = await connectedBinding('bind-conflict');
    for (const [what, body] of [
      ['parameters', bindBody(SMALL_PLAN_ID, { app_guid: 'app-1', parameters: { role: 'admin' } })],
      ['app_guid', bindBody(SMALL_PLAN_ID, { app_guid: 'app-2' })],
    ] as const) {
      const r = await env.osb.call('PUT', bindingPath(inst, binding), { body });
      expectError(r, 409, undefined, what);
    }
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(conn1.isClosed(), false, 'the live connection survived the conflicting binds');
    await roundTrip(conn1.conn);
    const again = await amqpConnect(creds.uri);
    await safeClose(again);
  });

  it('GET the binding: 200 with the same credentials', async () => {
    const { id: inst } = await provisioned(env, 'get-binding');
    const { id: binding, credentials: creds } = await bound(env, inst, 'get-binding-b');
    const r = await env.osb.call('GET', bindingPath(inst, binding));
    expectStatus(r, 200, 'get binding');
    assert.deepEqual(r.body.credentials, creds);
    const lo = await env.osb.call('GET', `${bindingPath(inst, binding)}/last_operation`);
    expectStatus(lo, 200, 'binding last_operation');
    assert.equal(lo.body.state, 'succeeded');
  });

  it('unbind: 200 {}; the live connection closes promptly, the user is gone, the old credentials are refused', async () => {
    const { inst, binding, creds, conn1 } = await connectedBinding('unbind');
    const t0 = Date.now();
    const r = await env.osb.call('DELETE', `${bindingPath(inst, binding)}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 200, 'unbind');
    assert.deepEqual(r.body, {});
    assert.ok(await within(conn1.closed, 2000), 'the app\'s connection was not closed within 2 s of unbind');
    const closedAt = await conn1.closed;
    assert.ok(closedAt - t0 <= 2000, `closed ${closedAt - t0} ms after unbind`);
    assert.equal(await env.rmq.userExists(creds.username), false, 'user deleted in RabbitMQ');
    assert.deepEqual(await env.rmq.userConnections(creds.username), []);
    const err = await amqpRefused(creds.uri);
    assert.match(String(err.message), /ACCESS_REFUSED|403|refused/i);
    const get = await env.osb.call('GET', bindingPath(inst, binding));
    expectError(get, 404, undefined, 'GET of an unbound binding');
  });

  it('unbind again: 410 {}', async () => {
    const { id: inst } = await provisioned(env, 'unbind-twice');
    const { id: binding } = await bound(env, inst, 'unbind-twice-b');
    expectStatus(await env.osb.call('DELETE', `${bindingPath(inst, binding)}?${ids(SMALL_PLAN_ID)}`), 200, 'unbind');
    const r = await env.osb.call('DELETE', `${bindingPath(inst, binding)}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 410, 'unbind again');
    assert.deepEqual(r.body, {});
  });

  it('after the unbind: binding last_operation is 200 "succeeded"; binding the same id again gives NEW credentials', async () => {
    const { id: inst } = await provisioned(env, 'after-unbind');
    const { id: binding, credentials: creds } = await bound(env, inst, 'after-unbind-b', SMALL_PLAN_ID, { app_guid: 'app-1' });
    expectStatus(await env.osb.call('DELETE', `${bindingPath(inst, binding)}?${ids(SMALL_PLAN_ID)}`), 200, 'unbind');
    const lo = await env.osb.call('GET', `${bindingPath(inst, binding)}/last_operation`);
    expectStatus(lo, 200, 'binding last_operation after unbind');
    assert.equal(lo.body.state, 'succeeded');
    const r = await env.osb.call('PUT', bindingPath(inst, binding), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) });
    expectStatus(r, 201, 'bind again after unbind');
    assert.notEqual(r.body.credentials.password, creds.password, 'a fresh password');
    assert.notEqual(r.body.credentials.username, creds.username, 'a fresh user');
    const c = await amqpConnect(r.body.credentials.uri);
    await safeClose(c);
    await amqpRefused(creds.uri);
    expectStatus(await env.osb.call('DELETE', `${bindingPath(inst, binding)}?${ids(SMALL_PLAN_ID)}`), 200, 'unbind');
  });

  it('deprovision with two bindings still connected: 200 {}; both connections close; users and vhost are gone', async () => {
    const { id: inst } = await provisioned(env, 'deprovision');
    const bound: Array<{ creds: Record<string, any>; conn: Tracked }> = [];
    for (const tag of ['b2', 'b3']) {
      const r = await env.osb.call('PUT', bindingPath(inst, env.id(tag)), { body: bindBody(SMALL_PLAN_ID) });
      expectStatus(r, 201, `bind ${tag}`);
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
    const { id: inst } = await provisioned(env, 'deprovision-twice');
    expectStatus(await env.osb.call('DELETE', `${instancePath(inst)}?${ids(SMALL_PLAN_ID)}`), 200, 'deprovision');
    const r = await env.osb.call('DELETE', `${instancePath(inst)}?${ids(SMALL_PLAN_ID)}`);
    expectStatus(r, 410, 'deprovision again');
    assert.deepEqual(r.body, {});
  });

  it('last_operation after the deprovision: 200 "succeeded" (not 410, not 404)', async () => {
    const { id: inst } = await provisioned(env, 'last-op');
    expectStatus(await env.osb.call('DELETE', `${instancePath(inst)}?${ids(SMALL_PLAN_ID)}`), 200, 'deprovision');
    const r = await env.osb.call('GET', `${instancePath(inst)}/last_operation`);
    expectStatus(r, 200, 'last_operation');
    assert.equal(r.body.state, 'succeeded');
    const withOp = await env.osb.call('GET', `${instancePath(inst)}/last_operation?${ids(SMALL_PLAN_ID)}&operation=whatever`);
    expectStatus(withOp, 200, 'last_operation with an operation');
    assert.equal(withOp.body.state, 'succeeded');
  });

  it('deprovision of the "standard" instance removes its vhost and operator policy', async () => {
    const { id: std } = await provisioned(env, 'deprovision-standard', STANDARD_PLAN_ID);
    assert.equal((await env.rmq.operatorPolicies(std)).length, 1, 'the standard plan\'s operator policy is there before');
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
    // A warren of its own at debug, the most verbose level an operator would use, driven through
    // a whole life (repeat and conflicting binds, unbind, rebind, deprovision with a live app),
    // then stopped, so even its shutdown lines are read.
    const logged = await startEnv('life-log', { env: { WARREN_LOG_LEVEL: 'debug' } });
    try {
      const passwords = new Set<string>();
      const { id: inst } = await provisioned(logged, 'inst');
      const first = await bound(logged, inst, 'b1', SMALL_PLAN_ID, { app_guid: 'app-1' });
      passwords.add(first.credentials.password);
      expectStatus(await logged.osb.call('PUT', bindingPath(inst, first.id), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-1' }) }), 200, 'repeat bind');
      expectError(await logged.osb.call('PUT', bindingPath(inst, first.id), { body: bindBody(SMALL_PLAN_ID, { app_guid: 'app-2' }) }), 409, undefined, 'conflicting bind');
      expectStatus(await logged.osb.call('DELETE', `${bindingPath(inst, first.id)}?${ids(SMALL_PLAN_ID)}`), 200, 'unbind');
      const again = await bound(logged, inst, 'b1', SMALL_PLAN_ID, { app_guid: 'app-1' });
      passwords.add(again.credentials.password);
      const second = await bound(logged, inst, 'b2');
      passwords.add(second.credentials.password);
      const app = await amqpConnect(second.credentials.uri);
      expectStatus(await logged.osb.call('DELETE', `${instancePath(inst)}?${ids(SMALL_PLAN_ID)}`), 200, 'deprovision');
      assert.ok(await within(app.closed, 2000), 'the app was disconnected by the deprovision');

      const code = await logged.warren.stop({ keepData: true });
      assert.equal(code, 0, 'warren exits 0 on SIGTERM');
      const key = readFileSync(join(logged.warren.dataDir, 'encryption.key'), 'utf8').trim();
      const secrets = new Map<string, string>([
        ['broker password', logged.warren.password],
        ['broker Authorization header', Buffer.from(`${logged.warren.username}:${logged.warren.password}`).toString('base64')],
        ['RabbitMQ admin Authorization header', Buffer.from('guest:guest').toString('base64')],
        ['encryption key', key],
      ]);
      for (const p of passwords) secrets.set(`binding password ${p.slice(0, 4)}...`, p);
      assert.equal(passwords.size, 3);
      const logs = logged.warren.logs;
      assert.ok(logs.some((l) => l.includes('"audit":"bound"')), 'the audit log was collected');
      for (const line of logs) {
        for (const [what, secret] of secrets) assert.ok(!line.includes(secret), `the log holds the ${what}: ${line}`);
        assert.doesNotMatch(line, /"password"\s*:\s*"(?!\[redacted\])/, `a password field in the log: ${line}`);
      }
    } finally {
      await logged.cleanup();
    }
  });
});

// The same lifecycle must never leave anything of its own in RabbitMQ: checked by the cleanup above.
