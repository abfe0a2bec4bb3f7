// PostgresStore: the shared contract on a real server, in a fresh schema per run (dropped after),
// plus PostgreSQL specifics. Skipped, with the reason, when the server does not answer.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { redactConnectionString } from '../../src/store/postgres-url.ts';
import { bindingRecord, instanceRecord, operationRecord } from './fixtures.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.ts';
import { coordinationContract } from './coordination-contract.ts';
import { storeContract } from './store-contract.ts';
import { until } from '../support/until.ts';
import type { Keyring } from '../../src/store/keyring.ts';

const BASE_URL = process.env['WARREN_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/warren_test';

/** Why PostgreSQL cannot be used, or undefined when it answers. */
async function unreachableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: BASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The base URL with a search_path, so the store's unqualified tables land in `schema`. */
function urlForSchema(schema: string): string {
  const u = new URL(BASE_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

const freshSchemaName = (): string => `warren_test_${randomBytes(6).toString('hex')}`;

const reason = await unreachableReason();
const skip = reason === undefined
  ? false
  : `PostgreSQL unreachable at ${redactConnectionString(BASE_URL)} (${reason}); run scripts/postgres-up.sh or set WARREN_TEST_PG_URL`;

describe('PostgresStore', { skip }, () => {
  let admin: pg.Client;
  const schemas: string[] = [];
  const newSchema = async (): Promise<string> => {
    const name = freshSchemaName();
    await admin.query(`CREATE SCHEMA ${name}`);
    schemas.push(name);
    return name;
  };
  let schema: string;

  before(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    schema = await newSchema();
  });
  after(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  const openStore = async (key: Buffer | Keyring, inSchema = schema): Promise<PostgresStore> => {
    const store = new PostgresStore({ url: urlForSchema(inSchema), key });
    await store.open();
    return store;
  };

  describe('coordination', () => {
    coordinationContract({ openStore: (key) => openStore(key), rawBindingRow: async () => '' });
  });

  describe('contract', () => {
    storeContract({
      openStore: (key) => openStore(key),
      async rawBindingRow(id) {
        const res = await admin.query(`SELECT * FROM ${schema}.warren_bindings WHERE id = $1`, [id]);
        return JSON.stringify(res.rows[0] ?? null);
      },
    });
  });

  describe('schema', () => {
    it('is created once when several brokers open a fresh database at the same time', async () => {
      const fresh = await newSchema();
      const key = randomBytes(32);
      const stores = await Promise.all(Array.from({ length: 5 }, () => openStore(key, fresh)));
      try {
        const versions = await admin.query(`SELECT version FROM ${fresh}.warren_schema_version`);
        assert.deepEqual(versions.rows, POSTGRES_MIGRATIONS.map((m) => ({ version: m.version })));
        const inst = instanceRecord();
        assert.equal(await stores[0]!.insertInstance(inst), true);
        assert.deepEqual(await stores[4]!.getInstance(inst.id), inst);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('uses jsonb for JSON and text for the sealed credentials', async () => {
      const res = await admin.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'warren_bindings' AND column_name IN ('parameters', 'credentials', 'created_at')
         ORDER BY column_name`,
        [schema],
      );
      assert.deepEqual(res.rows, [
        { column_name: 'created_at', data_type: 'timestamp with time zone' },
        { column_name: 'credentials', data_type: 'text' },
        { column_name: 'parameters', data_type: 'jsonb' },
      ]);
    });

    it('refuses a database whose schema is newer than it knows', async () => {
      const fresh = await newSchema();
      const key = randomBytes(32);
      await (await openStore(key, fresh)).close();
      await admin.query(`INSERT INTO ${fresh}.warren_schema_version (version) VALUES (99)`);
      await assert.rejects(openStore(key, fresh), new RegExp(`schema is version 99, newer than this warren supports \\(${POSTGRES_MIGRATIONS.at(-1)!.version}\\)`));
    });

    it('clears follow-ups by key however much the table grew after its first batches', async () => {
      // PostgreSQL keeps a generic plan after five runs of a prepared statement, costed for the
      // table then. Cleared on a near-empty, never-analyzed table, a prepared `id = ANY($1)` kept a
      // sequential scan of every operation once thousands were recorded.
      const fresh = await newSchema();
      const key = randomBytes(32);
      const seqScans = async (): Promise<number> =>
        Number((await admin.query(`SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'warren_operations'`, [fresh])).rows[0]?.seq_scan);
      // A closed backend has reported its scans once two readings 300 ms apart agree.
      const settledScans = () => until('the table statistics to settle', 5000, async () => {
        const a = await seqScans();
        await new Promise((r) => setTimeout(r, 300));
        return a === (await seqScans()) ? a : undefined;
      });
      await (await openStore(key, fresh)).close(); // the schema, whose DDL scans the table
      const before = await settledScans();
      const store = new PostgresStore({ url: urlForSchema(fresh), key, maxConnections: 1 });
      await store.open();
      const due = new Date(Date.now() - 1000).toISOString();
      const batch = async (n: number): Promise<string[]> => {
        const ops = Array.from({ length: n }, () => operationRecord({ state: 'succeeded', followupAt: due }));
        for (const op of ops) await store.insertOperation(op);
        return ops.map((o) => o.id);
      };
      let closed = false;
      try {
        for (let i = 0; i < 8; i++) await store.clearFollowups(await batch(2));
        await admin.query(`INSERT INTO ${fresh}.warren_operations (id, resource_type, resource_id, instance_id, kind, state, created_at, updated_at)
          SELECT 'grown-' || g, 'binding', 'b-' || g, 'i', 'bind', 'succeeded', now(), now() FROM generate_series(1, 20000) g`);
        const last = await batch(16);
        for (let i = 0; i < 20; i++) await store.clearFollowups(last);
        await store.close(); // its backend reports its scans on the way out
        closed = true;
        const scans = (await settledScans()) - before;
        // At most the first batches' (on a 1-page table a scan is as good as any); none of the last 20.
        assert.ok(scans <= 8, `sequential scans of warren_operations: ${scans}`);
        const left = await admin.query(`SELECT count(*)::int AS n FROM ${fresh}.warren_operations WHERE followup_at IS NOT NULL`);
        assert.equal(left.rows[0]?.n, 0, 'every follow-up was cleared');
      } finally {
        if (!closed) await store.close();
      }
    });

    it('serves a burst of 32 concurrent bind/unbind round trips through its bounded pool', async () => {
      const store = await openStore(randomBytes(32));
      try {
        const inst = instanceRecord();
        await store.insertInstance(inst);
        await Promise.all(Array.from({ length: 32 }, async () => {
          const rec = bindingRecord(inst.id, { state: 'creating', credentials: null });
          assert.equal(await store.insertBinding(rec), true);
          await store.updateBinding(rec.id, { state: 'ready', credentials: { password: 'p' } });
          assert.equal((await store.getBinding(rec.id))?.state, 'ready');
          await store.deleteBinding(rec.id);
        }));
        assert.deepEqual(await store.listBindings(inst.id), []);
      } finally {
        await store.close();
      }
    });
  });
});

describe('PostgresStore errors', () => {
  it('never include the connection string password', async () => {
    const password = 'Sup3r-Secret_pw';
    // Port 1: nothing listens, so the connection fails fast whatever the environment.
    const url = `postgres://warren:${password}@127.0.0.1:1/warren?connect_timeout=2`;
    const store = new PostgresStore({ url, key: randomBytes(32) });
    const err = await store.open().then(() => assert.fail('opened a store on port 1'), (e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.match(err.message, /cannot open the PostgreSQL store at postgres:\/\/warren:\*\*\*@127\.0\.0\.1:1\/warren/);
    assert.ok(!JSON.stringify({ ...err, message: err.message, stack: err.stack }).includes(password));
    assert.ok(!store.target.includes(password));
  });
});
