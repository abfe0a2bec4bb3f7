// The stores give back what they take: opening and closing a store many times leaves no file
// or socket fd behind, and a busy PostgreSQL store never holds more sockets to the server than
// its pool's `max`. Checked with the leak guard on this process.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { assertNoLeaks, takeSnapshot } from '../../packages/leakguard/src/index.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { bindingRecord, instanceRecord } from './fixtures.ts';

const key = randomBytes(32);
const CYCLES = 20;

/** A few calls of every kind, so each statement path runs. */
async function work(store: Store): Promise<void> {
  const inst = instanceRecord();
  assert.equal(await store.insertInstance(inst), true);
  const b = bindingRecord(inst.id);
  assert.equal(await store.insertBinding(b), true);
  assert.equal((await store.getBinding(b.id, { withCredentials: true }))?.id, b.id);
  assert.equal((await store.listBindings(inst.id)).length, 1);
  await store.deleteBinding(b.id);
  await store.deleteInstance(inst.id);
  await store.ping();
}

// Before any describe(): suites must all be registered before the runner starts (with
// --test-force-exit it ends the process once the registered ones are done).
const PG_URL = process.env['WARREN_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/warren_test';
const pgPort = Number(new URL(PG_URL).port || 5432);
const reason = await (async () => {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
})();

describe('SqliteStore fds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-store-fds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`${CYCLES} open/work/close cycles on a file leave no fd behind`, { timeout: 30_000 }, async () => {
    const warm = new SqliteStore({ dataDir: dir, key });
    await warm.open();
    await warm.close();
    const baseline = takeSnapshot('self');
    for (let i = 0; i < CYCLES; i++) {
      const store = new SqliteStore({ dataDir: dir, key });
      await store.open();
      await work(store);
      await store.close();
      // Checked at once: better-sqlite3 closes a forgotten database when it is garbage-collected,
      // which would hide the leak from a later look.
      const open = takeSnapshot('self').fds!.total - baseline.fds!.total;
      assert.ok(open <= 0, `cycle ${i + 1}: ${open} fds still open after close()`);
    }
    await assertNoLeaks(baseline, { allowedFdGrowth: 0, deadlineMs: 2000 });
  });
});

describe('PostgresStore sockets', { skip: reason === undefined ? false : `PostgreSQL unreachable (${reason})` }, () => {
  const schema = `warren_fds_${randomBytes(5).toString('hex')}`;
  const url = (() => {
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  })();
  const admin = new pg.Client({ connectionString: PG_URL });
  const socketsToPg = (): number => takeSnapshot('self').sockets.filter((s) => s.direction === 'out' && s.remotePort === pgPort).length;

  let connected = false;
  before(async () => {
    await admin.connect();
    connected = true;
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  after(async () => {
    if (!connected) return; // every test filtered out: nothing was made
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  });

  it(`${CYCLES} open/work/close cycles leave no socket to PostgreSQL behind`, { timeout: 30_000 }, async () => {
    const baseline = takeSnapshot('self');
    for (let i = 0; i < CYCLES; i++) {
      const store = new PostgresStore({ url, key, maxConnections: 3 });
      await store.open();
      await work(store);
      // A pooled client never released holds close() (pool.end()) for ever: fail, don't hang.
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        store.close().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
      ]).finally(() => clearTimeout(timer));
      assert.ok(closed, `cycle ${i + 1}: close() did not finish within 5 s: a pooled client was never released`);
    }
    await assertNoLeaks(baseline, { peer: pgPort, allowedFdGrowth: 0, deadlineMs: 3000 });
  });

  it('100 rounds of calls from 20 callers at once: never more sockets than max, every call answered', { timeout: 40_000 }, async () => {
    const MAX = 4;
    const before = socketsToPg();
    const store = new PostgresStore({ url, key, maxConnections: MAX });
    await store.open();
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, socketsToPg() - before)), 50);
    try {
      let next = 0;
      const caller = async (): Promise<void> => {
        while (next++ < 100) await work(store);
      };
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        Promise.all(Array.from({ length: 20 }, caller)).then(() => 'done'),
        new Promise((resolve) => (timer = setTimeout(() => resolve('stuck'), 20_000))),
      ]).finally(() => clearTimeout(timer));
      assert.equal(outcome, 'done', 'calls stopped being answered: the pool lost its connections');
    } finally {
      clearInterval(watch);
      await store.close();
    }
    assert.ok(most <= MAX, `${most} sockets to PostgreSQL at once, max ${MAX}`);
    for (let i = 0; i < 40 && socketsToPg() > before; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(socketsToPg(), before, 'close() left sockets open');
  });
});
