// Writes in doubt: a management write warren gave up on may still land later. After a bind that
// left a write in doubt, a rolled-back bind and a rolled-back provision, warren looks again once
// such a write can no longer be on its way (in_doubt_look_ms) and undoes what should not exist.
// First each case on its own (the late write held by the fault proxy, or played by the test
// straight against RabbitMQ, exactly what a held request does when it lands); then real late
// delivery through the fault proxy under load.
import { vhostMarker } from '../../src/broker/plan-in-rabbitmq.ts';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { RequestFaultProxy } from '../rabbitmq/helpers/request-fault-proxy.ts';
import { managementCall } from '../../testkit/json-answer.ts';
import { DEFAULT_SERVICE_ID, SMALL_PLAN_ID, STANDARD_PLAN_ID } from '../../testkit/osb-client.ts';
import { ChaosRun } from './support/chaos-run.ts';
import { ChaosWarren, IN_DOUBT_LOOK_MS } from './support/chaos-warren.ts';
import { RabbitView } from './support/invariants.ts';
import { newPrefix, runScenario } from './support/scenario.ts';

const MGMT = 'http://127.0.0.1:15672';
const ADMIN = 'Basic ' + Buffer.from('guest:guest').toString('base64');
const enc = encodeURIComponent;
const rabbit = new RabbitView(MGMT);
const agent = new Agent({ connections: 4 });
const provisionBody = { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID, organization_guid: 'org', space_guid: 'space' };
const bindBody = { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID };
const q = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`;
/** The look comes IN_DOUBT_LOOK_MS after the operation, plus the background job's tick. */
const LOOK_WAIT_MS = IN_DOUBT_LOOK_MS + 4_000;

/** What a held `PUT /api/users/{u}` does when it finally lands. */
async function lateUserWrite(username: string, password: string): Promise<void> {
  const r = await managementCall(agent, MGMT, ADMIN, 'PUT', `users/${enc(username)}`, { password, tags: 'management,policymaker' });
  assert.ok(r.status === 201 || r.status === 204, `late PUT user: ${r.status}`);
}

/** Whether a login with these credentials works (management API, as http_api_uri offers). */
async function loginWorks(username: string, password: string): Promise<boolean> {
  const auth = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  return (await managementCall(agent, MGMT, auth, 'GET', 'whoami')).status === 200;
}

async function eventually(what: string, ms: number, probe: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`${what} within ${ms} ms`);
    await sleep(200);
  }
}

describe('writes in doubt, case by case', { timeout: 180_000 }, () => {
  const prefix = newPrefix('doubt');
  let proxy: RequestFaultProxy;
  let w: ChaosWarren;
  let n = 0;
  const id = (tag: string) => `${prefix}${tag}${++n}`;

  const run = new ChaosRun(rabbit, prefix);
  before(async () => {
    ({ proxy, warren: w } = await run.start({}));
  });
  after(() => run.dispose());

  // What warren's own PUT /api/vhosts carries, so a "late" write here is the one warren sent.
  const deploymentId = () => String(w.parsedLogs().find((l) => l['msg'] === 'warren is listening')?.['deployment_id']);
  const marker = (instance: string) => vhostMarker(instance, deploymentId());
  const recreatedLogged = (what: 'user' | 'vhost', name: string) =>
    w.parsedLogs().some((l) => String(l['msg']).includes(`re-created the ${what}`) && (l['username'] === name || l['vhost'] === name));

  it('an unbind whose writes were all answered makes one late look at connections and no look for late writes', async () => {
    const i = id('i');
    const b = `${i}-b`;
    assert.equal((await w.osb.call('PUT', `/v2/service_instances/${i}`, { body: provisionBody })).status, 201);
    const bound = await w.osb.call('PUT', `/v2/service_instances/${i}/service_bindings/${b}`, { body: bindBody });
    assert.equal(bound.status, 201);
    const { username } = bound.body.credentials as { username: string };
    const from = proxy.seen.length;
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}/service_bindings/${b}?${q}`)).status, 200);
    await sleep(LOOK_WAIT_MS);
    const about = proxy.seen.slice(from).filter((s) => s.path.includes(enc(username))).map((s) => `${s.method} ${s.path.split('?')[0]}`);
    assert.deepEqual(about.filter((r) => r.startsWith('GET /api/users/')), [], 'no look for a late PUT of the user');
    assert.equal(about.filter((r) => r === `GET /api/connections/username/${enc(username)}`).length, 2, 'the unbind\'s check and the late look');
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}?${q}`)).status, 200);
  });

  it('the user of a rolled-back bind that a late write re-created is deleted', async () => {
    const i = id('i');
    const b = `${i}-b`;
    assert.equal((await w.osb.call('PUT', `/v2/service_instances/${i}`, { body: provisionBody })).status, 201);
    const from = proxy.seen.length;
    proxy.add({ fault: 'http5xx', status: 500, times: 1, match: `PUT /api/permissions/${enc(i)}/${enc(b)}-` });
    const r = await w.osb.call('PUT', `/v2/service_instances/${i}/service_bindings/${b}`, { body: bindBody });
    proxy.clear();
    assert.ok(r.status >= 500, `bind answered ${r.status}`);
    const put = proxy.seen.slice(from).find((s) => s.method === 'PUT' && s.path.startsWith(`/api/users/${enc(b)}-`));
    assert.ok(put, 'the bind created its user before failing');
    const username = decodeURIComponent(put.path.slice('/api/users/'.length));
    assert.deepEqual(await rabbit.users(`${b}-`), [], 'rolled back');
    await lateUserWrite(username, 'whatever-the-request-carried');
    await eventually('the re-created user to be deleted', LOOK_WAIT_MS, async () => (await rabbit.users(`${b}-`)).length === 0);
    assert.ok(recreatedLogged('user', username));
    // The instance and a new binding of the same id are not touched by the look.
    const again = await w.osb.call('PUT', `/v2/service_instances/${i}/service_bindings/${b}`, { body: bindBody });
    assert.equal(again.status, 201);
    await sleep(1_000);
    assert.deepEqual(await rabbit.users(`${b}-`), [again.body.credentials.username]);
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}?${q}`)).status, 200);
  });

  it('the vhost of a rolled-back provision that a late write re-created is deleted; a new provision of the same id is left alone', async () => {
    const i = id('p');
    proxy.add({ fault: 'http5xx', status: 500, times: 1, match: `PUT /api/vhost-limits/${enc(i)}/` });
    const r = await w.osb.call('PUT', `/v2/service_instances/${i}`, { body: provisionBody });
    proxy.clear();
    assert.ok(r.status >= 500, `provision answered ${r.status}`);
    assert.deepEqual(await rabbit.vhosts(i), [], 'rolled back');
    // The held PUT /api/vhosts/{i} lands, marker and all.
    const late = await managementCall(agent, MGMT, ADMIN, 'PUT', `vhosts/${enc(i)}`, { description: marker(i), tags: 'warren' });
    assert.equal(late.status, 201);
    await eventually('the re-created vhost to be deleted', LOOK_WAIT_MS, async () => (await rabbit.vhosts(i)).length === 0);
    assert.ok(recreatedLogged('vhost', i));

    // Rolled back again, and this time the platform provisions the same id before the look.
    const j = id('p');
    proxy.add({ fault: 'http5xx', status: 500, times: 1, match: `PUT /api/vhost-limits/${enc(j)}/` });
    assert.ok((await w.osb.call('PUT', `/v2/service_instances/${j}`, { body: provisionBody })).status >= 500);
    proxy.clear();
    assert.equal((await w.osb.call('PUT', `/v2/service_instances/${j}`, { body: provisionBody })).status, 201);
    await sleep(LOOK_WAIT_MS);
    assert.deepEqual(await rabbit.vhosts(j), [j], 'the new instance keeps its vhost');
    assert.equal((await w.osb.call('GET', `/v2/service_instances/${j}`)).status, 200);
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${j}?${q}`)).status, 200);
  });

  it('a failed update whose target plan lands late is put back on the old plan: never a mix of two plans', async () => {
    const i = id('u');
    assert.equal((await w.osb.call('PUT', `/v2/service_instances/${i}`, { body: provisionBody })).status, 201);
    proxy.add({ fault: 'http5xx', status: 500, times: 1, match: `PUT /api/operator-policies/${enc(i)}/` });
    const r = await w.osb.call('PATCH', `/v2/service_instances/${i}`, { body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID } });
    proxy.clear();
    assert.ok(r.status >= 500, `update answered ${r.status}`);
    const limits = async () => ((await rabbit.get(`vhost-limits/${enc(i)}`)) as Array<{ value: Record<string, number> }>)[0]?.value;
    assert.deepEqual(await limits(), { 'max-connections': 20, 'max-queues': 100 }, 'rolled back');
    // The held PUT of the standard plan's connection limit lands.
    const late = await managementCall(agent, MGMT, ADMIN, 'PUT', `vhost-limits/${enc(i)}/max-connections`, { value: 500 });
    assert.ok(late.status === 204 || late.status === 201, `late PUT: ${late.status}`);
    await eventually('the old plan to be applied again', LOOK_WAIT_MS, async () => (await limits())?.['max-connections'] === 20);
    assert.deepEqual(await limits(), { 'max-connections': 20, 'max-queues': 100 });
    assert.equal((await w.osb.call('GET', `/v2/service_instances/${i}`)).body.plan_id, SMALL_PLAN_ID);
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}?${q}`)).status, 200);
  });

  it('a vhost re-created after a deprovision is deleted again', async () => {
    const i = id('d');
    assert.equal((await w.osb.call('PUT', `/v2/service_instances/${i}`, { body: provisionBody })).status, 201);
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}?${q}`)).status, 200);
    const late = await managementCall(agent, MGMT, ADMIN, 'PUT', `vhosts/${enc(i)}`, { description: marker(i), tags: 'warren' });
    assert.equal(late.status, 201);
    await eventually('the re-created vhost to be deleted', LOOK_WAIT_MS, async () => (await rabbit.vhosts(i)).length === 0);
  });
});

describe('a bind that left a write in doubt', { timeout: 120_000 }, () => {
  const prefix = newPrefix('held');
  let proxy: RequestFaultProxy;
  let spare: RequestFaultProxy;
  let w: ChaosWarren;
  let n = 0;
  const id = (tag: string) => `${prefix}${tag}${++n}`;

  // Two nodes (two proxies to one RabbitMQ): the held attempt stalls the first, the retry goes to the second.
  before(async () => {
    proxy = await RequestFaultProxy.start(15672);
    spare = await RequestFaultProxy.start(15672);
    w = new ChaosWarren({ managementPort: proxy.port, moreManagementPorts: [spare.port] });
    await w.start();
  });
  after(async () => {
    await w?.dispose();
    await proxy?.close();
    await spare?.close();
    await rabbit.purge(prefix);
  });

  const recreatedLogged = (name: string) => w.parsedLogs().some((l) => String(l['msg']).includes('re-created the user') && l['username'] === name);

  it('a held PUT of a bind\'s user that lands after the unbind (credentials handed out) is undone by the bind\'s own look', async () => {
    const i = id('i');
    const b = `${i}-b`;
    assert.equal((await w.osb.call('PUT', `/v2/service_instances/${i}`, { body: provisionBody })).status, 201);
    // The bind's first PUT of its user is held past warren's attempt deadline: warren tries again,
    // succeeds, and knows the held one is in doubt.
    const from = proxy.seen.length;
    proxy.add({ fault: 'late', times: 1, match: `PUT /api/users/${enc(b)}-` });
    const bound = await w.osb.call('PUT', `/v2/service_instances/${i}/service_bindings/${b}`, { body: bindBody });
    proxy.clear();
    assert.ok(spare.seen.some((s) => s.method === 'PUT' && s.path === `/api/users/${enc(String(bound.body.credentials?.username))}`), 'the retry went to the other node');
    assert.equal(bound.status, 201);
    const { username, password } = bound.body.credentials as { username: string; password: string };
    assert.ok(proxy.seen.slice(from).some((s) => s.fault === 'late' && s.path === `/api/users/${enc(username)}`), 'the first PUT was held');
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}/service_bindings/${b}?${q}`)).status, 200);
    assert.deepEqual(await rabbit.users(username), [], 'the unbind deleted the user');
    await eventually('the held PUT to land and re-create the user', LOOK_WAIT_MS, async () => (await rabbit.users(username)).includes(username));
    assert.ok(await loginWorks(username, password), 'the late write brought the revoked credentials back');
    await eventually('the re-created user to be deleted', LOOK_WAIT_MS, async () => !(await rabbit.users(username)).includes(username));
    assert.equal(await loginWorks(username, password), false);
    assert.ok(recreatedLogged(username), 'a warning names the user');
    assert.equal((await w.osb.call('DELETE', `/v2/service_instances/${i}?${q}`)).status, 200);
  });

});

describe('chaos: late delivery', { timeout: 300_000 }, () => {
  const prefix = newPrefix('late');
  const run = new ChaosRun(rabbit, prefix);
  after(async () => {
    await run.dispose();
    await rabbit.close();
    await agent.close();
  });

  it('70 % of user writes and 30 % of vhost and permission writes land 2.5 s late, after warren gave up on them: 0 users resurrected', async (t) => {
    const { proxy, warren: w } = await run.start({ seed: 7, lateMs: 2_500 });
    proxy.add({ fault: 'late', match: 'PUT /api/users/', probability: 0.7 });
    proxy.add({ fault: 'late', match: /^PUT \/api\/(vhosts|permissions)\//, probability: 0.3 });
    const figures = await runScenario({ name: 'late delivery', warren: w, proxy, managementPort: proxy.port, rabbit, prefix, lifecycles: 6, concurrency: 3, keep: 2 });
    t.diagnostic(`figures ${JSON.stringify(figures)}`);
    assert.ok(figures.lateLanded > 0, 'late writes landed after warren gave up on them');
    assert.ok(figures.recreatedUsersUndone > 0, 'some of them re-created users, which the looks deleted');
  });
});
