// Every compensation path, driven by a fault at each step. A clean provision, bind and plan
// update are recorded through a request-level fault proxy first; then each of their management
// requests is failed in turn (RabbitMQ's own 500, answered once: the funnel does not retry it),
// and writes additionally with "applied, answer lost" (the write landed, the caller never heard).
// After each failure the platform must see an error, and RabbitMQ must hold exactly what it held
// before the operation: nothing of a failed provision or bind, the old plan after a failed update,
// and the instance's other binding untouched. A rollback that fails too is logged, the operation
// stays 'in progress' (no lease), and the recovery job finishes it: never a mix of two plans.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { FaultRule, RequestFault, RequestFaultProxy } from '../rabbitmq/helpers/request-fault-proxy.ts';
import { DEFAULT_SERVICE_ID, SMALL_PLAN_ID, STANDARD_PLAN_ID } from '../../testkit/osb-client.ts';
import { ChaosRun } from './support/chaos-run.ts';
import type { ChaosWarren } from './support/chaos-warren.ts';
import { RabbitView } from './support/invariants.ts';
import { randomBytes } from 'node:crypto';
import { until } from '../support/until.ts';

const PREFIX = `wc-comp-${randomBytes(3).toString('hex')}-`;
const enc = encodeURIComponent;
const rabbit = new RabbitView('http://127.0.0.1:15672');
let seq = 0;
const newId = (tag: string) => `${PREFIX}${tag}${++seq}`;

interface Step {
  method: string;
  /** The request line with the ids as placeholders: {i} instance, {u} binding user. */
  template: string;
}

/** Regex escaping for a literal part of a request line. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function toRegex(step: Step, ids: { i: string; b?: string }): RegExp {
  let src = '^' + esc(step.template);
  src = src.split(esc('{i}')).join(esc(enc(ids.i)));
  if (ids.b) src = src.split(esc('{u}')).join(`${esc(enc(ids.b))}-[a-z0-9]+`);
  return new RegExp(`${src}(\\?.*)?$`);
}

/** The distinct requests (in first-seen order) that mention the ids, since `from`. */
function stepsSince(proxy: RequestFaultProxy, from: number, ids: { i: string; b?: string }): Step[] {
  const out = new Map<string, Step>();
  const userRe = ids.b ? new RegExp(`${esc(enc(ids.b))}-[a-z0-9]+`, 'g') : undefined;
  for (const s of proxy.seen.slice(from)) {
    const path = s.path.split('?')[0]!;
    if (!path.includes(enc(ids.i)) && !(ids.b && path.includes(enc(ids.b)))) continue;
    let template = `${s.method} ${path}`;
    if (userRe) template = template.replace(userRe, '{u}');
    template = template.split(enc(ids.i)).join('{i}');
    if (!out.has(template)) out.set(template, { method: s.method, template });
  }
  return [...out.values()];
}

const provisionBody = (plan = SMALL_PLAN_ID) => ({ service_id: DEFAULT_SERVICE_ID, plan_id: plan, organization_guid: 'org', space_guid: 'space' });
const bindBody = { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID };

describe('compensation: every step of provision, bind and update failed in turn', { timeout: 600_000 }, () => {
  let proxy: RequestFaultProxy;
  let w: ChaosWarren;
  // A neighbour that must never be touched by anyone's rollback.
  const sibling = { i: newId('sib'), b: '' };
  let siblingUser = '';
  let provisionSteps: Step[] = [];
  let bindSteps: Step[] = [];
  let updateSteps: Step[] = [];

  const osb = () => w.osb;
  const put = (path: string, body: unknown) => osb().call('PUT', path, { body });

  async function usersOf(bindingId: string): Promise<string[]> {
    return rabbit.users(`${bindingId}-`);
  }

  async function vhostExists(id: string): Promise<boolean> {
    return (await rabbit.vhosts(id)).includes(id);
  }

  async function vhostLimits(id: string): Promise<Record<string, number>> {
    const rows = (await rabbit.get(`vhost-limits/${enc(id)}`)) as Array<{ value: Record<string, number> }>;
    return rows[0]?.value ?? {};
  }

  async function userLimits(user: string): Promise<Record<string, number>> {
    const rows = (await rabbit.get(`user-limits/${enc(user)}`)) as Array<{ value: Record<string, number> }>;
    return rows[0]?.value ?? {};
  }

  /** RabbitMQ's view of an instance on the small plan, with its binding user. */
  async function assertSmallPlan(id: string, user: string): Promise<void> {
    assert.deepEqual(await vhostLimits(id), { 'max-connections': 20, 'max-queues': 100 }, `vhost limits of ${id}`);
    assert.deepEqual(await rabbit.get(`operator-policies/${enc(id)}`), [], `operator policies of ${id}`);
    assert.deepEqual(await userLimits(user), { 'max-connections': 5, 'max-channels': 64 }, `user limits of ${user}`);
    const perms = await rabbit.get(`permissions/${enc(id)}/${enc(user)}`);
    assert.equal(perms.configure, '.*');
  }

  async function assertSiblingIntact(): Promise<void> {
    assert.ok(await vhostExists(sibling.i), 'the sibling instance keeps its vhost');
    assert.deepEqual(await usersOf(sibling.b), [siblingUser], 'the sibling binding keeps its user');
    await assertSmallPlan(sibling.i, siblingUser);
  }

  /** The log line arrives through a pipe: wait for it a little. */
  async function rollbackFailureLogged(resource: string): Promise<boolean> {
    const seen = () => w.parsedLogs().some((l) => l['level'] === 50 && l['resource'] === resource && /could not undo/.test(String(l['msg'])));
    for (let i = 0; i < 20 && !seen(); i++) await sleep(100);
    return seen();
  }

  async function lastOperation(path: string): Promise<{ status: number; state?: string; description?: string }> {
    const r = await osb().call('GET', `${path}/last_operation`);
    return { status: r.status, state: r.body?.state, description: r.body?.description };
  }

  const run = new ChaosRun(rabbit, PREFIX);
  before(async () => {
    ({ proxy, warren: w } = await run.start({}));
    // Record one clean run of each operation.
    let from = proxy.seen.length;
    assert.equal((await put(`/v2/service_instances/${sibling.i}`, provisionBody())).status, 201);
    provisionSteps = stepsSince(proxy, from, { i: sibling.i });
    sibling.b = `${sibling.i}-b`;
    from = proxy.seen.length;
    const bound = await put(`/v2/service_instances/${sibling.i}/service_bindings/${sibling.b}`, bindBody);
    assert.equal(bound.status, 201);
    siblingUser = bound.body.credentials.username;
    bindSteps = stepsSince(proxy, from, { i: sibling.i, b: sibling.b });
    // An update is recorded on an instance of its own, there and back.
    const u = { i: newId('rec'), b: '' };
    u.b = `${u.i}-b`;
    assert.equal((await put(`/v2/service_instances/${u.i}`, provisionBody())).status, 201);
    assert.equal((await put(`/v2/service_instances/${u.i}/service_bindings/${u.b}`, bindBody)).status, 201);
    from = proxy.seen.length;
    assert.equal((await osb().call('PATCH', `/v2/service_instances/${u.i}`, { body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID } })).status, 200);
    updateSteps = stepsSince(proxy, from, { i: u.i, b: u.b });
    assert.ok(provisionSteps.length >= 3 && bindSteps.length >= 2 && updateSteps.length >= 3, 'the operations were recorded');
  });

  after(async () => {
    await run.dispose();
    await rabbit.close();
  });

  /** The faults to try at a step: RabbitMQ's 500 always; for writes also "applied, answer lost". */
  function faultsAt(step: Step, withApplied: boolean): Array<{ fault: RequestFault; status?: number; times?: number }> {
    const out: Array<{ fault: RequestFault; status?: number; times?: number }> = [{ fault: 'http5xx', status: 500, times: 1 }];
    if (withApplied && step.method === 'PUT') out.push({ fault: 'applied-answer-lost' });
    return out;
  }

  it('a failed provision leaves no vhost and no record, whichever step failed and how', async (t) => {
    t.diagnostic(`provision: ${provisionSteps.map((s) => s.template).join(' | ')}`);
    t.diagnostic(`bind: ${bindSteps.map((s) => s.template).join(' | ')}`);
    t.diagnostic(`update: ${updateSteps.map((s) => s.template).join(' | ')}`);
    let cases = 0;
    for (const step of provisionSteps) {
      for (const f of faultsAt(step, true)) {
        const id = newId('p');
        proxy.clear().add({ ...f, match: toRegex(step, { i: id }) });
        const r = await put(`/v2/service_instances/${id}`, provisionBody());
        proxy.clear();
        const label = `${f.fault} at ${step.template}`;
        assert.ok(r.status >= 500, `${label}: answered ${r.status} ${r.text}`);
        assert.equal(proxy.counts()[f.fault] > 0, true, `${label}: the fault was injected`);
        assert.equal(await vhostExists(id), false, `${label}: the vhost is gone`);
        assert.equal((await osb().call('GET', `/v2/service_instances/${id}`)).status, 404, `${label}: no instance`);
        const op = await lastOperation(`/v2/service_instances/${id}`);
        assert.equal(op.state, 'failed', `${label}: last_operation ${JSON.stringify(op)}`);
        cases++;
      }
    }
    await assertSiblingIntact();
    assert.ok(cases >= provisionSteps.length);
  });

  it('a failed bind leaves no user and no record, and the instance and its other binding untouched', async () => {
    for (const step of bindSteps) {
      for (const f of faultsAt(step, true)) {
        const b = newId('b');
        proxy.clear().add({ ...f, match: toRegex(step, { i: sibling.i, b }) });
        const r = await put(`/v2/service_instances/${sibling.i}/service_bindings/${b}`, bindBody);
        proxy.clear();
        const label = `${f.fault} at ${step.template}`;
        assert.ok(r.status >= 500, `${label}: answered ${r.status} ${r.text}`);
        assert.deepEqual(await usersOf(b), [], `${label}: no user of the failed binding`);
        assert.equal((await osb().call('GET', `/v2/service_instances/${sibling.i}/service_bindings/${b}`)).status, 404, label);
        const op = await lastOperation(`/v2/service_instances/${sibling.i}/service_bindings/${b}`);
        assert.equal(op.state, 'failed', `${label}: last_operation ${JSON.stringify(op)}`);
        await assertSiblingIntact();
      }
    }
  });

  it('a failed update puts the old plan back everywhere it got to, whichever step failed', async () => {
    for (const step of updateSteps) {
      const id = newId('u');
      const b = `${id}-b`;
      assert.equal((await put(`/v2/service_instances/${id}`, provisionBody())).status, 201);
      const bound = await put(`/v2/service_instances/${id}/service_bindings/${b}`, bindBody);
      assert.equal(bound.status, 201);
      proxy.clear().add({ fault: 'http5xx', status: 500, times: 1, match: toRegex(step, { i: id, b }) });
      const r = await osb().call('PATCH', `/v2/service_instances/${id}`, { body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID } });
      proxy.clear();
      const label = `500 at ${step.template}`;
      assert.ok(r.status >= 500, `${label}: answered ${r.status} ${r.text}`);
      await assertSmallPlan(id, bound.body.credentials.username);
      const got = await osb().call('GET', `/v2/service_instances/${id}`);
      assert.equal(got.body.plan_id, SMALL_PLAN_ID, `${label}: the record keeps the old plan`);
      const op = await lastOperation(`/v2/service_instances/${id}`);
      assert.equal(op.state, 'failed', `${label}: ${JSON.stringify(op)}`);
      assert.match(op.description ?? '', /previous plan was restored/);
    }
    await assertSiblingIntact();
  });

  it('a provision whose rollback fails too is logged, stays in progress, and is rolled back by the recovery job', async () => {
    const id = newId('pr');
    const limits = provisionSteps.find((s) => s.template.includes('vhost-limits')) ?? provisionSteps.at(-1)!;
    const rules: FaultRule[] = [
      { fault: 'http5xx', status: 500, times: 1, match: toRegex(limits, { i: id }) },
      { fault: 'http5xx', status: 500, match: new RegExp(`^DELETE /api/vhosts/${esc(enc(id))}$`) },
    ];
    for (const rule of rules) proxy.add(rule);
    const r = await put(`/v2/service_instances/${id}`, provisionBody());
    assert.ok(r.status >= 500, `answered ${r.status}`);
    assert.ok(await vhostExists(id), 'the rollback could not delete the vhost');
    assert.ok(await rollbackFailureLogged(id), 'the failed rollback is logged at error level');
    const stuck = await lastOperation(`/v2/service_instances/${id}`);
    assert.equal(stuck.state, 'in progress', 'the operation says it is not finished');
    proxy.clear();
    const done = await until('the recovery job to roll the provision back', 20_000, async () => {
      const op = await lastOperation(`/v2/service_instances/${id}`);
      return op.state !== 'in progress' ? op : undefined;
    });
    assert.equal(done.state, 'failed');
    assert.match(done.description ?? '', /rolled back/);
    assert.equal(await vhostExists(id), false);
    assert.equal((await osb().call('GET', `/v2/service_instances/${id}`)).status, 404);
  });

  it('a bind whose rollback fails too is logged, stays in progress, and is rolled back by the recovery job', async () => {
    const b = newId('br');
    const perms = bindSteps.find((s) => s.template.startsWith('PUT /api/permissions')) ?? bindSteps.at(-1)!;
    proxy.add({ fault: 'http5xx', status: 500, times: 1, match: toRegex(perms, { i: sibling.i, b }) });
    proxy.add({ fault: 'http5xx', status: 500, match: new RegExp(`^DELETE /api/users/${esc(enc(b))}-`) });
    const path = `/v2/service_instances/${sibling.i}/service_bindings/${b}`;
    const r = await put(path, bindBody);
    assert.ok(r.status >= 500, `answered ${r.status}`);
    assert.equal((await usersOf(b)).length, 1, 'the rollback could not delete the user');
    assert.ok(await rollbackFailureLogged(b), 'the failed rollback is logged at error level');
    assert.equal((await lastOperation(path)).state, 'in progress');
    assert.equal((await osb().call('GET', path)).status, 404, 'credentials of an unfinished bind are never served');
    proxy.clear();
    const done = await until('the recovery job to roll the bind back', 20_000, async () => {
      const op = await lastOperation(path);
      return op.state !== 'in progress' ? op : undefined;
    });
    assert.equal(done.state, 'failed');
    assert.deepEqual(await usersOf(b), []);
    await assertSiblingIntact();
  });

  it('an update whose rollback fails too never stays on a mix of two plans: the recovery job puts the old plan back', async () => {
    const id = newId('ur');
    const b = `${id}-b`;
    assert.equal((await put(`/v2/service_instances/${id}`, provisionBody())).status, 201);
    const bound = await put(`/v2/service_instances/${id}/service_bindings/${b}`, bindBody);
    assert.equal(bound.status, 201);
    // The forward (removing the user's limits) and the rollback (putting them back) both fail,
    // after the vhost already has the new plan's limits and operator policy.
    proxy.add({ fault: 'http5xx', status: 500, match: new RegExp(`^(DELETE|PUT) /api/user-limits/${esc(enc(b))}-`) });
    const r = await osb().call('PATCH', `/v2/service_instances/${id}`, { body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID } });
    assert.ok(r.status >= 500, `answered ${r.status} ${r.text}`);
    assert.ok(await rollbackFailureLogged(id), 'the failed rollback is logged at error level');
    assert.equal((await lastOperation(`/v2/service_instances/${id}`)).state, 'in progress', 'the operation says it is not finished');
    proxy.clear();
    const done = await until('the recovery job to restore the old plan', 20_000, async () => {
      const op = await lastOperation(`/v2/service_instances/${id}`);
      return op.state !== 'in progress' ? op : undefined;
    });
    assert.equal(done.state, 'failed');
    assert.match(done.description ?? '', /previous plan was restored/);
    await assertSmallPlan(id, bound.body.credentials.username);
    assert.equal((await osb().call('GET', `/v2/service_instances/${id}`)).body.plan_id, SMALL_PLAN_ID);
  });
});
