// createStore picks the implementation from configuration.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createStore } from '../../src/store/create-store.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

describe('createStore', () => {
  const key = randomBytes(32);

  it('returns an unopened SqliteStore for kind sqlite', async () => {
    const store = createStore({ kind: 'sqlite', dataDir: ':memory:' }, key);
    assert.ok(store instanceof SqliteStore);
    await assert.rejects(store.ping(), /not open/);
    await store.open();
    await store.ping();
    await store.close();
  });

  it('returns an unopened PostgresStore for kind postgres (no connection yet)', async () => {
    const store = createStore({ kind: 'postgres', url: 'postgres://u:pw@127.0.0.1:1/x' }, key);
    assert.ok(store instanceof PostgresStore);
    await assert.rejects(store.ping(), /not open/);
  });

  it('rejects a key that is not 32 bytes', () => {
    assert.throws(() => createStore({ kind: 'sqlite', dataDir: ':memory:' }, randomBytes(8)), /32 bytes/);
  });
});
