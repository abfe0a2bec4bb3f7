// What every Store must guarantee for coordinating replicas: operations recorded with a lease
// serialize work per resource, expired leases are taken over, and a named lease has one holder.
// Run against each implementation on a real database, with two store objects standing in for
// two replicas where it matters.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, it } from 'node:test';
import type { OperationStart, Store } from '../../src/store/store.ts';
import { bindingRecord, instanceRecord, uid } from './fixtures.ts';
import { CONTRACT_KEY, type StoreHarness } from './store-contract.ts';

const start = (over: Partial<OperationStart> = {}): OperationStart => {
  const instanceId = over.instanceId ?? uid('inst');
  return {
    id: uid('op'), resourceType: 'instance', resourceId: instanceId, instanceId, kind: 'provision',
    owner: 'replica-a', leaseMs: 10_000, intent: { planId: 'p' }, supersededLookMs: 30_000, ...over,
  };
};

export function coordinationContract(h: StoreHarness): void {
  let a: Store;
  let b: Store;
  beforeEach(async () => {
    a = await h.openStore(CONTRACT_KEY);
    b = await h.openStore(CONTRACT_KEY);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('records an operation in progress with its owner, lease and intent', async () => {
    const op = start();
    assert.deepEqual(await a.beginOperation(op), { started: true, instance: undefined, binding: undefined });
    const rec = await b.getOperation('instance', op.resourceId, op.id);
    assert.equal(rec?.state, 'in progress');
    assert.equal(rec?.owner, 'replica-a');
    assert.deepEqual(rec?.intent, { planId: 'p' });
    assert.ok(rec?.leaseUntil && Date.parse(rec.leaseUntil) > Date.now());
  });

  it('a started operation gets its instance and binding as they are after the lock, and an unbind marks the binding deleting', async () => {
    const inst = instanceRecord();
    await a.insertInstance(inst);
    const bound = bindingRecord(inst.id);
    await a.insertBinding(bound);
    const bind = await b.beginOperation(start({ resourceType: 'binding', resourceId: bound.id, instanceId: inst.id, kind: 'bind', withCredentials: true }));
    assert.ok(bind.started);
    assert.deepEqual(bind.instance, inst);
    assert.deepEqual(bind.binding, bound);
    await b.discardOperation((await b.getOperation('binding', bound.id))!.id, 'replica-a');

    const unbind = await b.beginOperation(start({ resourceType: 'binding', resourceId: bound.id, instanceId: inst.id, kind: 'unbind', bindingState: 'deleting' }));
    assert.ok(unbind.started);
    assert.equal(unbind.binding?.state, 'deleting', 'read after the state was set');
    assert.equal(unbind.binding?.credentials, null, 'credentials stay sealed unless asked for');
    assert.equal((await a.getBinding(bound.id))?.state, 'deleting', 'the state is stored');

    // A binding of another instance is not touched; a missing one reads as undefined.
    const other = instanceRecord();
    await a.insertInstance(other);
    const elsewhere = bindingRecord(other.id);
    await a.insertBinding(elsewhere);
    const wrong = await b.beginOperation(start({ resourceType: 'binding', resourceId: elsewhere.id, instanceId: inst.id, kind: 'unbind', bindingState: 'deleting' }));
    assert.ok(wrong.started);
    assert.equal((await a.getBinding(elsewhere.id))?.state, 'ready');
    const none = await b.beginOperation(start({ resourceType: 'binding', resourceId: uid('bind'), instanceId: other.id, kind: 'bind' }));
    assert.ok(none.started);
    assert.equal(none.binding, undefined);
    assert.equal(none.instance?.id, other.id);
  });

  it('a bind may insert its row with its operation: only where the instance takes binds on that plan, and never over a row', async () => {
    const inst = instanceRecord();
    await a.insertInstance(inst);
    const row = bindingRecord(inst.id, { state: 'creating', planId: inst.planId, credentials: { password: 'p1' } });
    const bind = start({ resourceType: 'binding', resourceId: row.id, instanceId: inst.id, kind: 'bind', insertBinding: row, withCredentials: true });
    const begun = await b.beginOperation(bind);
    assert.ok(begun.started);
    assert.deepEqual(begun.binding, row, 'read back as the binding');
    assert.deepEqual(await a.getBinding(row.id), row);
    // Finished with its credentials: ready, and the full credentials sealed in the same write.
    const full = { username: row.username, password: 'p1', uri: 'amqp://x' };
    assert.equal(await b.finishOperation(bind.id, 'replica-a', { state: 'succeeded', description: null, effect: { bindingId: row.id, state: 'ready', credentials: full } }), true);
    const ready = await a.getBinding(row.id);
    assert.equal(ready?.state, 'ready');
    assert.deepEqual(ready?.credentials, full);

    // Over an existing row: nothing changes. On another plan, or an instance not ready: no row.
    const again = await b.beginOperation(start({
      resourceType: 'binding', resourceId: row.id, instanceId: inst.id, kind: 'bind', insertBinding: { ...row, username: 'someone-else' },
    }));
    assert.ok(again.started);
    assert.equal(again.binding?.username, row.username);
    const otherPlan = bindingRecord(inst.id, { planId: 'plan-other' });
    assert.ok((await b.beginOperation(start({ resourceType: 'binding', resourceId: otherPlan.id, instanceId: inst.id, kind: 'bind', insertBinding: otherPlan }))).started);
    assert.equal(await a.getBinding(otherPlan.id), undefined);
    const gone = instanceRecord({ state: 'deprovisioning' });
    await a.insertInstance(gone);
    const late = bindingRecord(gone.id, { planId: gone.planId });
    assert.ok((await b.beginOperation(start({ resourceType: 'binding', resourceId: late.id, instanceId: gone.id, kind: 'bind', insertBinding: late }))).started);
    assert.equal(await a.getBinding(late.id), undefined);
  });

  it('finishing applies its binding change in the same step, and only while the operation is still its owner\'s', async () => {
    const inst = instanceRecord();
    await a.insertInstance(inst);
    const creating = bindingRecord(inst.id, { state: 'creating' });
    await a.insertBinding(creating);
    const bind = start({ resourceType: 'binding', resourceId: creating.id, instanceId: inst.id, kind: 'bind' });
    await a.beginOperation(bind);
    assert.equal(await a.finishOperation(bind.id, 'replica-a', { state: 'succeeded', description: null, effect: { bindingId: creating.id, state: 'ready' } }), true);
    assert.equal((await b.getBinding(creating.id))?.state, 'ready');
    assert.equal((await b.getOperation('binding', creating.id, bind.id))?.state, 'succeeded');

    const unbind = start({ resourceType: 'binding', resourceId: creating.id, instanceId: inst.id, kind: 'unbind', leaseMs: 1 });
    await a.beginOperation(unbind);
    await sleep(20);
    assert.ok(await b.takeOverOperation(unbind.id, 'replica-b', 10_000), 'replica-b took the lapsed operation over');
    assert.equal(await a.finishOperation(unbind.id, 'replica-a', { state: 'succeeded', description: null, effect: { bindingId: creating.id, remove: true } }), false);
    assert.ok(await b.getBinding(creating.id), 'the former owner removed nothing');
    assert.equal(await b.finishOperation(unbind.id, 'replica-b', { state: 'succeeded', description: 'binding deleted', effect: { bindingId: creating.id, remove: true } }), true);
    assert.equal(await a.getBinding(creating.id), undefined);
    assert.equal((await a.getOperation('binding', creating.id, unbind.id))?.state, 'succeeded');
  });

  it('a write in doubt on an instance is pending until its look is cleared', async () => {
    const op = start({ kind: 'deprovision' });
    await a.beginOperation(op);
    assert.equal(await b.pendingDoubt(op.instanceId), false);
    await a.finishOperation(op.id, 'replica-a', {
      state: 'failed', description: 'x', followupAt: new Date(Date.now() + 60_000).toISOString(), intent: { writesInDoubt: true },
    });
    assert.equal(await b.pendingDoubt(op.instanceId), true);
    assert.equal(await b.pendingDoubt(uid('inst')), false, 'another instance');
    await b.clearFollowups([op.id]);
    assert.equal(await a.pendingDoubt(op.instanceId), false, 'the look was made');
  });

  it('an instance operation blocks every other operation on the instance and its bindings', async () => {
    const op = start();
    await a.beginOperation(op);
    const again = await b.beginOperation(start({ instanceId: op.instanceId, owner: 'replica-b', kind: 'deprovision' }));
    assert.equal(again.started, false);
    assert.equal(!again.started && again.blocking.id, op.id);
    const bind = await b.beginOperation(start({ resourceType: 'binding', resourceId: uid('bind'), instanceId: op.instanceId, kind: 'bind', owner: 'replica-b' }));
    assert.equal(bind.started, false);
  });

  it('binding operations share their instance but exclude each other per binding, and block instance operations', async () => {
    const instanceId = uid('inst');
    const b1 = uid('bind');
    assert.ok((await a.beginOperation(start({ resourceType: 'binding', resourceId: b1, instanceId, kind: 'bind' }))).started);
    assert.ok((await b.beginOperation(start({ resourceType: 'binding', resourceId: uid('bind'), instanceId, kind: 'bind', owner: 'replica-b' }))).started);
    assert.equal((await b.beginOperation(start({ resourceType: 'binding', resourceId: b1, instanceId, kind: 'unbind', owner: 'replica-b' }))).started, false);
    assert.equal((await b.beginOperation(start({ instanceId, kind: 'deprovision', owner: 'replica-b' }))).started, false);
  });

  it('of 10 replicas racing for one instance, exactly one starts', async () => {
    const instanceId = uid('inst');
    const stores = [a, b];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stores[i % 2]!.beginOperation(start({ instanceId, owner: `replica-${i}` }))),
    );
    assert.equal(results.filter((r) => r.started).length, 1);
  });

  it('finish, discard and renew work only for the owner while in progress', async () => {
    const op = start();
    await a.beginOperation(op);
    assert.equal(await b.renewOperation(op.id, 'replica-b', 10_000), false);
    assert.equal(await a.renewOperation(op.id, 'replica-a', 10_000), true);
    assert.equal(await b.finishOperation(op.id, 'replica-b', { state: 'succeeded', description: null }), false);
    assert.equal(await a.finishOperation(op.id, 'replica-a', { state: 'succeeded', description: null }), true);
    assert.equal(await a.finishOperation(op.id, 'replica-a', { state: 'failed', description: 'twice' }), false);
    const rec = await b.getOperation('instance', op.resourceId, op.id);
    assert.equal(rec?.state, 'succeeded');
    assert.equal(rec?.owner, null);
    // Finished: the instance is free again.
    assert.ok((await b.beginOperation(start({ instanceId: op.instanceId, owner: 'replica-b', kind: 'update' }))).started);
    const other = start();
    await a.beginOperation(other);
    await a.discardOperation(other.id, 'replica-a');
    assert.equal(await a.getOperation('instance', other.resourceId, other.id), undefined);
  });

  it('an expired lease is listed as abandoned, taken over by exactly one replica, and then renewable only by it', async () => {
    const op = start({ leaseMs: 1_000 });
    await a.beginOperation(op);
    assert.ok(!(await b.listAbandonedOperations(100)).some((r) => r.id === op.id));
    await a.abandonOperation(op.id, 'replica-a');
    assert.ok((await b.listAbandonedOperations(100)).some((r) => r.id === op.id));
    const takes = await Promise.all([a.takeOverOperation(op.id, 'replica-c', 10_000), b.takeOverOperation(op.id, 'replica-b', 10_000)]);
    assert.equal(takes.filter(Boolean).length, 1);
    const winner = takes[0] ? 'replica-c' : 'replica-b';
    assert.equal(await a.renewOperation(op.id, 'replica-a', 10_000), false, 'the old owner has lost it');
    assert.equal(await a.renewOperation(op.id, winner, 10_000), true);
    assert.ok(!(await b.listAbandonedOperations(100)).some((r) => r.id === op.id));
  });

  it('a new request supersedes a conflicting operation whose lease expired', async () => {
    const op = start({ leaseMs: 1_000 });
    await a.beginOperation(op);
    await sleep(1_100);
    const next = start({ instanceId: op.instanceId, owner: 'replica-b', kind: 'deprovision', supersededLookMs: 5_000 });
    const t0 = Date.now();
    assert.deepEqual(await b.beginOperation(next), { started: true, instance: undefined, binding: undefined });
    const old = await b.getOperation('instance', op.resourceId, op.id);
    assert.equal(old?.state, 'failed');
    assert.match(old?.description ?? '', /superseded/);
    // What it sent may still land: it gets a look for late writes, as its recovery would have made.
    assert.deepEqual(old?.intent, { planId: 'p', writesInDoubt: true });
    const lookIn = Date.parse(old?.followupAt ?? '') - t0;
    assert.ok(lookIn >= 4_000 && lookIn <= 6_000, `look due in ${lookIn} ms`);
    assert.equal(await a.finishOperation(op.id, 'replica-a', { state: 'succeeded', description: null }), false, 'the stopped owner cannot finish it any more');
  });

  it('follow-ups come due, are listed until cleared, and keep the operation from being pruned', async () => {
    const op = start({ resourceType: 'binding', resourceId: uid('bind'), kind: 'unbind', intent: { username: 'u' } });
    await a.beginOperation(op);
    await a.finishOperation(op.id, 'replica-a', { state: 'succeeded', description: null, followupAt: new Date(Date.now() + 200).toISOString() });
    assert.ok(!(await b.listDueFollowups(100)).some((r) => r.id === op.id));
    await sleep(250);
    const due = (await b.listDueFollowups(100)).find((r) => r.id === op.id);
    assert.deepEqual(due?.intent, { username: 'u' });
    await b.pruneOperations(new Date(Date.now() + 60_000).toISOString());
    assert.ok(await b.getOperation('binding', op.resourceId, op.id), 'not pruned while a follow-up is due');
    await b.clearFollowups([op.id]);
    assert.ok(!(await b.listDueFollowups(100)).some((r) => r.id === op.id));
  });

  it('a follow-up is re-armed for a later look with what it is to check, and stays unpruned until cleared', async () => {
    const op = start({ resourceType: 'binding', resourceId: uid('bind'), kind: 'unbind', intent: { username: 'u' } });
    await a.beginOperation(op);
    await a.finishOperation(op.id, 'replica-a', { state: 'succeeded', description: 'binding deleted', followupAt: new Date(Date.now() - 1).toISOString(), intent: { username: 'u-1' } });
    const before = await b.getOperation('binding', op.resourceId, op.id);
    assert.deepEqual(before?.intent, { username: 'u-1' }, 'the outcome replaced the intent');
    assert.ok((await b.listDueFollowups(100)).some((r) => r.id === op.id));
    await b.rearmFollowup(op.id, new Date(Date.now() + 300).toISOString(), { username: 'u', look: 'in-doubt', looks: 1 });
    assert.ok(!(await b.listDueFollowups(100)).some((r) => r.id === op.id), 're-armed into the future');
    const after = await a.getOperation('binding', op.resourceId, op.id);
    assert.equal(after?.state, 'succeeded');
    assert.equal(after?.description, 'binding deleted');
    assert.equal(after?.updatedAt, before?.updatedAt, 'last_operation is not changed by a later look');
    await b.pruneOperations(new Date(Date.now() + 60_000).toISOString());
    assert.ok(await b.getOperation('binding', op.resourceId, op.id), 'not pruned while a look is armed');
    await sleep(350);
    const due = (await a.listDueFollowups(100)).find((r) => r.id === op.id);
    assert.deepEqual(due?.intent, { username: 'u', look: 'in-doubt', looks: 1 });
    await a.clearFollowups([op.id]);
    assert.ok(!(await b.listDueFollowups(100)).some((r) => r.id === op.id));
  });

  it('an operation still in progress is never given a follow-up', async () => {
    const op = start({ resourceType: 'binding', resourceId: uid('bind'), kind: 'bind', intent: null });
    await a.beginOperation(op);
    await b.rearmFollowup(op.id, new Date(Date.now() - 1).toISOString(), { username: 'x' });
    assert.ok(!(await b.listDueFollowups(100)).some((r) => r.id === op.id));
    const rec = await b.getOperation('binding', op.resourceId, op.id);
    assert.equal(rec?.intent, null);
    assert.equal(rec?.state, 'in progress');
  });

  it('a named lease has one holder, renewable by it, taken over after expiry with a higher epoch, released at once', async () => {
    const name = uid('lease');
    const e1 = await a.acquireLease(name, 'replica-a', 1_000);
    assert.equal(typeof e1, 'number');
    assert.equal(await b.acquireLease(name, 'replica-b', 1_000), null);
    assert.equal(await a.acquireLease(name, 'replica-a', 1_000), e1, 'renewal keeps the epoch');
    await sleep(1_100);
    const e2 = await b.acquireLease(name, 'replica-b', 10_000);
    assert.ok(e2 !== null && e1 !== null && e2 > e1);
    assert.equal(await a.acquireLease(name, 'replica-a', 1_000), null);
    await b.releaseLease(name, 'replica-b');
    const e3 = await a.acquireLease(name, 'replica-a', 1_000);
    assert.ok(e3 !== null && e3 > (e2 ?? 0));
  });
}
