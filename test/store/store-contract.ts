// The behaviour every Store must have, run against each implementation on a real database.
// Call storeContract() inside the implementation's describe(); the harness supplies the database.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Keyring } from '../../src/store/keyring.ts';
import type { Store } from '../../src/store/store.ts';
import { bindingRecord, instanceRecord, operationRecord, passwordOf, uid } from './fixtures.ts';

export interface StoreHarness {
  /** A new, opened store on the suite's (shared) database, using `key` for credentials. */
  openStore(key: Buffer | Keyring): Promise<Store>;
  /** The binding's row exactly as the database holds it, rendered as text. */
  rawBindingRow(id: string): Promise<string>;
}

export const CONTRACT_KEY = randomBytes(32);

export function storeContract(h: StoreHarness): void {
  let store: Store;
  beforeEach(async () => {
    store = await h.openStore(CONTRACT_KEY);
  });
  afterEach(async () => {
    await store.close();
  });

  it('answers ping', async () => {
    await store.ping();
  });

  it('rejects calls after close(), and close() twice is harmless', async () => {
    await store.close();
    await assert.rejects(store.getInstance('x'), /not open/);
    await store.close();
  });

  describe('instances', () => {
    it('inserts and reads back the same record', async () => {
      const rec = instanceRecord();
      assert.equal(await store.insertInstance(rec), true);
      assert.deepEqual(await store.getInstance(rec.id), rec);
    });

    it('returns undefined for an unknown id', async () => {
      assert.equal(await store.getInstance(uid('missing')), undefined);
    });

    it('insert of an existing id returns false and changes nothing', async () => {
      const rec = instanceRecord();
      await store.insertInstance(rec);
      const other = instanceRecord({ id: rec.id, planId: 'plan-large', state: 'failed', parameters: null });
      assert.equal(await store.insertInstance(other), false);
      assert.deepEqual(await store.getInstance(rec.id), rec);
    });

    it('update changes only the given fields, null clears, updatedAt defaults to now', async () => {
      const rec = instanceRecord();
      await store.insertInstance(rec);
      const before = Date.now();
      await store.updateInstance(rec.id, { state: 'updating', planId: 'plan-large', parameters: null, dashboardUrl: undefined });
      const got = await store.getInstance(rec.id);
      assert.ok(got);
      const { updatedAt, ...rest } = got;
      const { updatedAt: _old, ...unchanged } = rec;
      assert.deepEqual(rest, { ...unchanged, state: 'updating', planId: 'plan-large', parameters: null });
      assert.ok(Date.parse(updatedAt) >= before - 1000, `updatedAt ${updatedAt} should be about now`);

      await store.updateInstance(rec.id, { context: { a: 1 }, updatedAt: '2025-01-02T03:04:05.678Z' });
      const again = await store.getInstance(rec.id);
      assert.deepEqual(again?.context, { a: 1 });
      assert.equal(again?.updatedAt, '2025-01-02T03:04:05.678Z');
      assert.equal(again?.createdAt, rec.createdAt);
    });

    it('update of an unknown id writes nothing', async () => {
      const id = uid('missing');
      await store.updateInstance(id, { state: 'failed' });
      assert.equal(await store.getInstance(id), undefined);
    });

    it('deletes, and counts instances', async () => {
      const n = await store.countInstances();
      const a = instanceRecord();
      const b = instanceRecord();
      await store.insertInstance(a);
      await store.insertInstance(b);
      assert.equal(await store.countInstances(), n + 2);
      await store.deleteInstance(a.id);
      assert.equal(await store.getInstance(a.id), undefined);
      assert.deepEqual(await store.getInstance(b.id), b);
      assert.equal(await store.countInstances(), n + 1);
      await store.deleteInstance(a.id); // deleting again is a no-op
    });

    it('refuses to delete an instance that still has bindings', async () => {
      const inst = instanceRecord();
      await store.insertInstance(inst);
      const b = bindingRecord(inst.id);
      await store.insertBinding(b);
      await assert.rejects(store.deleteInstance(inst.id), new RegExp(`instance ${inst.id} still has bindings`));
      await store.deleteBinding(b.id);
      await store.deleteInstance(inst.id);
      assert.equal(await store.getInstance(inst.id), undefined);
    });

    it('returns dates as UTC ISO 8601 strings whatever offset they were given in', async () => {
      const rec = instanceRecord({ createdAt: '2024-05-01T12:00:00+02:00', updatedAt: '2024-05-01T12:00:00.5+02:00' });
      await store.insertInstance(rec);
      const got = await store.getInstance(rec.id);
      assert.equal(got?.createdAt, '2024-05-01T10:00:00.000Z');
      assert.equal(got?.updatedAt, '2024-05-01T10:00:00.500Z');
    });
  });

  describe('bindings', () => {
    let instanceId: string;
    beforeEach(async () => {
      const inst = instanceRecord();
      instanceId = inst.id;
      await store.insertInstance(inst);
    });

    it('inserts and reads back the same record, credentials in clear', async () => {
      const rec = bindingRecord(instanceId, { predecessorBindingId: uid('old'), parameters: { 'x-ttl': 60, list: [1, 'two', null] } });
      assert.equal(await store.insertBinding(rec), true);
      assert.deepEqual(await store.getBinding(rec.id), rec);
      const bare = bindingRecord(instanceId, { credentials: null, appGuid: null, bindResource: null, context: null, state: 'creating' });
      assert.equal(await store.insertBinding(bare), true);
      assert.deepEqual(await store.getBinding(bare.id), bare);
    });

    it('returns undefined for an unknown id', async () => {
      assert.equal(await store.getBinding(uid('missing')), undefined);
    });

    it('insert of an existing id returns false and changes nothing', async () => {
      const rec = bindingRecord(instanceId);
      await store.insertBinding(rec);
      const other = bindingRecord(instanceId, { id: rec.id, username: 'intruder', state: 'failed' });
      assert.equal(await store.insertBinding(other), false);
      assert.deepEqual(await store.getBinding(rec.id), rec);
    });

    it('update changes only the given fields, including credentials and clearing them', async () => {
      const rec = bindingRecord(instanceId, { state: 'creating', credentials: null });
      await store.insertBinding(rec);
      const credentials = { password: 'fresh-secret', port: 5672 };
      await store.updateBinding(rec.id, { state: 'ready', credentials, updatedAt: '2024-06-01T00:00:00.000Z' });
      assert.deepEqual(await store.getBinding(rec.id), { ...rec, state: 'ready', credentials, updatedAt: '2024-06-01T00:00:00.000Z' });

      await store.updateBinding(rec.id, { state: 'deleting', credentials: null });
      const got = await store.getBinding(rec.id);
      assert.equal(got?.state, 'deleting');
      assert.equal(got?.credentials, null);
      assert.equal(got?.username, rec.username);
      assert.notEqual(got?.updatedAt, '2024-06-01T00:00:00.000Z');
    });

    it('deletes', async () => {
      const rec = bindingRecord(instanceId);
      await store.insertBinding(rec);
      await store.deleteBinding(rec.id);
      assert.equal(await store.getBinding(rec.id), undefined);
      await store.deleteBinding(rec.id); // deleting again is a no-op
    });

    it("lists an instance's bindings only, oldest first", async () => {
      const second = bindingRecord(instanceId, { createdAt: '2024-03-02T00:00:00.000Z' });
      const first = bindingRecord(instanceId, { createdAt: '2024-03-01T00:00:00.000Z' });
      await store.insertBinding(second);
      await store.insertBinding(first);
      const otherInstance = instanceRecord();
      await store.insertInstance(otherInstance);
      await store.insertBinding(bindingRecord(otherInstance.id));
      assert.deepEqual(await store.listBindings(instanceId), [first, second]);
      assert.deepEqual(await store.listBindings(uid('missing')), []);
    });

    it('rejects a binding whose instance does not exist', async () => {
      const rec = bindingRecord(uid('no-such-instance'));
      await assert.rejects(store.insertBinding(rec), new RegExp(`instance ${rec.instanceId} does not exist`));
      assert.equal(await store.getBinding(rec.id), undefined);
    });
  });

  describe('operations', () => {
    it('reads an operation by id, only for its own resource', async () => {
      const op = operationRecord({ description: 'creating vhost' });
      await store.insertOperation(op);
      assert.deepEqual(await store.getOperation('instance', op.resourceId, op.id), op);
      assert.equal(await store.getOperation('binding', op.resourceId, op.id), undefined);
      assert.equal(await store.getOperation('instance', uid('other'), op.id), undefined);
      assert.equal(await store.getOperation('instance', op.resourceId, uid('missing')), undefined);
    });

    it('without an id, returns the newest operation of the resource', async () => {
      const resourceId = uid('bind');
      const instanceId = uid('inst');
      const at = (createdAt: string, kind: 'bind' | 'unbind') =>
        operationRecord({ resourceType: 'binding', resourceId, instanceId, kind, createdAt, updatedAt: createdAt });
      const middle = at('2024-03-02T00:00:00.000Z', 'bind');
      const newest = at('2024-03-03T00:00:00.000Z', 'unbind');
      const oldest = at('2024-03-01T00:00:00.000Z', 'bind');
      for (const op of [middle, newest, oldest]) await store.insertOperation(op);
      await store.insertOperation(operationRecord({ resourceType: 'binding', createdAt: '2030-01-01T00:00:00.000Z' }));
      assert.deepEqual(await store.getOperation('binding', resourceId), newest);
      assert.deepEqual(await store.getOperation('binding', resourceId, oldest.id), oldest);
      assert.equal(await store.getOperation('instance', resourceId), undefined);

      // Same millisecond: the one inserted last wins.
      const tie = at(newest.createdAt, 'bind');
      await store.insertOperation(tie);
      assert.deepEqual(await store.getOperation('binding', resourceId), tie);
    });

    it('updates state and description, bumping updatedAt', async () => {
      const op = operationRecord();
      await store.insertOperation(op);
      await store.updateOperation(op.id, { state: 'failed', description: 'vhost limit reached' });
      const got = await store.getOperation('instance', op.resourceId, op.id);
      assert.ok(got);
      assert.deepEqual({ ...got, updatedAt: op.updatedAt }, { ...op, state: 'failed', description: 'vhost limit reached' });
      assert.ok(got.updatedAt > op.updatedAt);
      await store.updateOperation(op.id, { description: null });
      assert.equal((await store.getOperation('instance', op.resourceId, op.id))?.state, 'failed');
    });

    it('rejects a second operation with the same id', async () => {
      const op = operationRecord();
      await store.insertOperation(op);
      await assert.rejects(store.insertOperation({ ...op, kind: 'update' }));
      assert.deepEqual(await store.getOperation('instance', op.resourceId, op.id), op);
    });

    it('prunes finished operations last updated before the date, and says how many', async () => {
      // Dates before every other test's, since the database is shared.
      const old = '2001-01-01T00:00:00.000Z';
      const ops = {
        oldSucceeded: operationRecord({ state: 'succeeded', updatedAt: old, createdAt: old }),
        oldFailed: operationRecord({ state: 'failed', updatedAt: old, createdAt: old }),
        oldRunning: operationRecord({ state: 'in progress', updatedAt: old, createdAt: old }),
        recentSucceeded: operationRecord({ state: 'succeeded', createdAt: old, updatedAt: '2001-06-01T00:00:00.000Z' }),
      };
      for (const op of Object.values(ops)) await store.insertOperation(op);
      assert.equal(await store.pruneOperations('2001-02-01T00:00:00.000Z'), 2);
      const present = async (op: typeof ops.oldFailed) => (await store.getOperation('instance', op.resourceId, op.id)) !== undefined;
      assert.equal(await present(ops.oldSucceeded), false);
      assert.equal(await present(ops.oldFailed), false);
      assert.equal(await present(ops.oldRunning), true);
      assert.equal(await present(ops.recentSucceeded), true);
      assert.equal(await store.pruneOperations('2001-02-01T00:00:00.000Z'), 0);
    });
  });

  describe('credentials at rest', () => {
    let instanceId: string;
    beforeEach(async () => {
      const inst = instanceRecord();
      instanceId = inst.id;
      await store.insertInstance(inst);
    });

    it('are stored encrypted: the raw row does not contain the password', async () => {
      const rec = bindingRecord(instanceId);
      await store.insertBinding(rec);
      const raw = await h.rawBindingRow(rec.id);
      assert.ok(raw.includes(rec.username), 'the raw read must see the row (or this test proves nothing)');
      assert.ok(!raw.includes(passwordOf(rec)), 'password found in clear in the database');
      assert.ok(!raw.includes('amqp://u:pw@host'), 'credentials found in clear in the database');
      assert.match(raw, /v2:default:/);

      await store.updateBinding(rec.id, { credentials: { password: 'rotated-S3cret' } });
      assert.ok(!(await h.rawBindingRow(rec.id)).includes('rotated-S3cret'));
      assert.deepEqual((await store.getBinding(rec.id))?.credentials, { password: 'rotated-S3cret' });
    });

    it('do not decrypt with another key, and the error names the binding but not the secret', async () => {
      const rec = bindingRecord(instanceId);
      const bare = bindingRecord(instanceId, { credentials: null });
      await store.insertBinding(rec);
      await store.insertBinding(bare);
      const otherKey = randomBytes(32);
      const other = await h.openStore(otherKey);
      try {
        const err = await other.getBinding(rec.id).then(() => assert.fail('decrypted with the wrong key'), (e: unknown) => e);
        assert.ok(err instanceof Error);
        assert.match(err.message, /cannot decrypt the stored credentials of binding/);
        assert.ok(err.message.includes(rec.id), err.message);
        for (const secret of [passwordOf(rec), 'amqp://u:pw@host']) assert.ok(!err.message.includes(secret), err.message);
        for (const k of [CONTRACT_KEY, otherKey]) {
          for (const enc of ['hex', 'base64', 'base64url'] as const) assert.ok(!err.message.includes(k.toString(enc)));
        }
        await assert.rejects(other.listBindings(instanceId), /cannot decrypt/);
        // Rows without credentials need no key.
        assert.deepEqual(await other.getBinding(bare.id), bare);
      } finally {
        await other.close();
      }
    });
  });

  describe('deployment identity and listings (reconcile)', () => {
    it('has a deployment id from the first open on, the same for every store on that database', async () => {
      const id = await store.deploymentId();
      assert.match(id, /^[a-z2-7]{16}$/);
      const second = await h.openStore(CONTRACT_KEY);
      try {
        assert.equal(await second.deploymentId(), id);
      } finally {
        await second.close();
      }
      await store.close();
      store = await h.openStore(CONTRACT_KEY);
      assert.equal(await store.deploymentId(), id, 'kept across a reopen');
    });

    it('lists every instance, and every binding with its credentials left sealed', async () => {
      const inst = instanceRecord();
      await store.insertInstance(inst);
      const b = bindingRecord(inst.id);
      await store.insertBinding(b);
      const instances = await store.listInstances();
      assert.deepEqual(instances.find((i) => i.id === inst.id), inst);
      const listed = (await store.listAllBindings()).find((x) => x.id === b.id);
      assert.deepEqual(listed, { ...b, credentials: null });
      assert.deepEqual((await store.getBinding(b.id))?.credentials, b.credentials, 'getBinding still opens them');
    });
  });

  it('keeps everything across close() and a reopen', async () => {
    const inst = instanceRecord();
    const bind = bindingRecord(inst.id);
    const op = operationRecord({ instanceId: inst.id, resourceId: inst.id, state: 'succeeded' });
    await store.insertInstance(inst);
    await store.insertBinding(bind);
    await store.insertOperation(op);
    await store.close();
    store = await h.openStore(CONTRACT_KEY); // also re-runs schema setup on an existing database
    assert.deepEqual(await store.getInstance(inst.id), inst);
    assert.deepEqual(await store.getBinding(bind.id), bind);
    assert.deepEqual(await store.getOperation('instance', inst.id), op);
  });

  describe('concurrent inserts of one id', () => {
    it('exactly one of 20 instance inserts wins', async () => {
      const id = uid('inst');
      const attempts = Array.from({ length: 20 }, (_, i) => instanceRecord({ id, planId: `plan-${i}` }));
      const results = await Promise.all(attempts.map((r) => store.insertInstance(r)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = attempts[results.indexOf(true)];
      assert.deepEqual(await store.getInstance(id), winner);
    });

    it('exactly one of 20 binding inserts wins', async () => {
      const inst = instanceRecord();
      await store.insertInstance(inst);
      const id = uid('bind');
      const attempts = Array.from({ length: 20 }, (_, i) => bindingRecord(inst.id, { id, username: `user-${i}` }));
      const results = await Promise.all(attempts.map((r) => store.insertBinding(r)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = attempts[results.indexOf(true)];
      assert.deepEqual(await store.getBinding(id), winner);
      assert.deepEqual((await store.listBindings(inst.id)).map((b) => b.id), [id]);
    });
  });

  // Last: it re-seals every row of the shared table, other tests' too.
  describe('key rotation', () => {
    it('seals new writes with the primary, reads by label, and re-encrypts every record in batches', async () => {
      const oldKey = { label: 'k-old', key: randomBytes(32) };
      const newKey = { label: 'k-new', key: randomBytes(32) };
      const contract = { label: 'default', key: CONTRACT_KEY };
      const ring = new Keyring([oldKey, contract]);
      const before = await h.openStore(ring);
      const inst = instanceRecord();
      await before.insertInstance(inst);
      const olds = [1, 2, 3].map(() => bindingRecord(inst.id));
      const bare = bindingRecord(inst.id, { credentials: null });
      for (const b of [...olds, bare]) await before.insertBinding(b);
      for (const b of olds) assert.match(await h.rawBindingRow(b.id), /v2:k-old:/);

      // A reload makes k-new the primary of the same store, without reopening it.
      ring.replace([newKey, oldKey, contract]);
      const fresh = bindingRecord(inst.id);
      await before.insertBinding(fresh);
      assert.match(await h.rawBindingRow(fresh.id), /v2:k-new:/);
      for (const b of olds) assert.deepEqual(await before.getBinding(b.id), b, 'records sealed with k-old still read');

      const batches: number[] = [];
      const result = await before.reencryptCredentials({ batchSize: 2, onBatch: (p) => batches.push(p.reencrypted) });
      assert.equal(result.primary, 'k-new');
      assert.deepEqual(result.failed, []);
      assert.ok(result.reencrypted >= olds.length, `re-encrypted ${result.reencrypted}`);
      assert.ok(batches.length >= 2, `batches: ${batches.join(',')}`);
      for (const b of [...olds, fresh]) assert.match(await h.rawBindingRow(b.id), /v2:k-new:/);
      assert.equal((await before.reencryptCredentials()).reencrypted, 0, 'a second run has nothing left to do');
      await before.close();

      // The old keys can go now: a store with k-new alone reads everything.
      const after = await h.openStore(new Keyring([newKey]));
      try {
        for (const b of [...olds, fresh, bare]) assert.deepEqual(await after.getBinding(b.id), b);
      } finally {
        await after.close();
      }
    });

    it('beside a server writing the same rows, loses none of its updates (compare-and-set)', async () => {
      const keys = [{ label: 'c-new', key: randomBytes(32) }, { label: 'c-old', key: randomBytes(32) }, { label: 'default', key: CONTRACT_KEY }];
      const server = await h.openStore(new Keyring(keys, 'c-old'));
      const rotator = await h.openStore(new Keyring(keys, 'c-new'));
      try {
        const inst = instanceRecord();
        await server.insertInstance(inst);
        const binds = Array.from({ length: 15 }, () => bindingRecord(inst.id, { credentials: { v: 0 } }));
        for (const b of binds) await server.insertBinding(b);
        const seen = new Set<string>();
        // The server writes each row again right after the rotator read it, before it writes back.
        const result = await rotator.reencryptCredentials({
          batchSize: 4,
          beforeWrite: async (ids) => {
            for (const id of ids.filter((i) => binds.some((b) => b.id === i) && !seen.has(i))) {
              seen.add(id);
              await server.updateBinding(id, { credentials: { v: 1 } });
            }
          },
        });
        const mine = new Set(binds.map((b) => b.id));
        assert.equal(seen.size, binds.length, 'every row was written concurrently once');
        assert.deepEqual(result.failed.filter((f) => mine.has(f.bindingId)), []);
        assert.ok(result.skipped >= binds.length, `skipped ${result.skipped}`);
        for (const b of binds) assert.deepEqual((await rotator.getBinding(b.id))?.credentials, { v: 1 }, `binding ${b.id} kept the server's write`);
        // The server's writes were sealed with its (old) primary: a second run re-seals them.
        const second = await rotator.reencryptCredentials();
        assert.ok(second.reencrypted >= binds.length);
        for (const b of binds) assert.match(await h.rawBindingRow(b.id), /v2:c-new:/);
      } finally {
        await server.close();
        await rotator.close();
      }
    });

    it('reports records no configured key opens, by binding id, and re-seals the rest', async () => {
      const lost = { label: 'k-lost', key: randomBytes(32) };
      const kept = { label: 'k-kept', key: randomBytes(32) };
      const writer = await h.openStore(new Keyring([lost]));
      const inst = instanceRecord();
      await writer.insertInstance(inst);
      const orphan = bindingRecord(inst.id);
      await writer.insertBinding(orphan);
      await writer.close();
      const rotator = await h.openStore(new Keyring([kept, { label: 'default', key: CONTRACT_KEY }, { label: 'k-new', key: randomBytes(32) }]));
      try {
        const result = await rotator.reencryptCredentials({ batchSize: 50 });
        const mine = result.failed.find((f) => f.bindingId === orphan.id);
        assert.ok(mine, JSON.stringify(result.failed));
        assert.match(mine.reason, /k-lost/);
        assert.ok(!mine.reason.includes(passwordOf(orphan)));
        assert.match(await h.rawBindingRow(orphan.id), /v2:k-lost:/, 'an unreadable record is left as it was');
      } finally {
        await rotator.close();
      }
    });
  });
}
