// SqliteStore: the shared contract on a real file in a temp directory, plus SQLite specifics.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME, SqliteStore } from '../../src/store/sqlite-store.ts';
import { bindingRecord, instanceRecord, passwordOf } from './fixtures.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-schema.ts';
import { coordinationContract } from './coordination-contract.ts';
import { storeContract } from './store-contract.ts';
import type { Keyring } from '../../src/store/keyring.ts';

describe('SqliteStore', () => {
  let root: string;
  let dataDir: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'warren-sqlite-'));
    dataDir = join(root, 'data', 'nested'); // does not exist yet: open() creates it
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const openStore = async (key: Buffer | Keyring): Promise<SqliteStore> => {
    const store = new SqliteStore({ dataDir, key });
    await store.open();
    return store;
  };

  describe('coordination', () => {
    coordinationContract({ openStore, rawBindingRow: async () => '' });
  });

  describe('contract', () => {
    storeContract({
      openStore,
      async rawBindingRow(id) {
        const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
        try {
          return JSON.stringify(db.prepare('SELECT * FROM warren_bindings WHERE id = ?').get(id) ?? null);
        } finally {
          db.close();
        }
      },
    });
  });

  describe('file', () => {
    it('creates <dataDir>/warren.db in a 0700 directory, in WAL mode, with a schema version', async () => {
      const store = await openStore(randomBytes(32));
      await store.close();
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.ok(statSync(join(dataDir, SQLITE_FILE_NAME)).isFile());
      const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.deepEqual(db.prepare('SELECT version FROM warren_schema_version').all(), SQLITE_MIGRATIONS.map((m) => ({ version: m.version })));
      } finally {
        db.close();
      }
    });

    it('never writes the password to any of its files (database, WAL), open or closed', async () => {
      const key = randomBytes(32);
      const store = await openStore(key);
      const inst = instanceRecord();
      const rec = bindingRecord(inst.id);
      await store.insertInstance(inst);
      await store.insertBinding(rec);
      const filesContain = (s: string): boolean =>
        readdirSync(dataDir)
          .filter((f) => f.startsWith(SQLITE_FILE_NAME))
          .some((f) => readFileSync(join(dataDir, f)).includes(s));
      assert.ok(filesContain(rec.username), 'the row must be on disk (or this test proves nothing)');
      assert.equal(filesContain(passwordOf(rec)), false);
      await store.close();
      assert.equal(filesContain(passwordOf(rec)), false);
      const reopened = await openStore(key);
      assert.deepEqual(await reopened.getBinding(rec.id), rec);
      await reopened.close();
    });

    it('keeps every file 0600 in a 0700 directory whatever the umask, and tightens loose ones left behind', async () => {
      const dir = join(mkdtempSync(join(root, 'modes-')), 'data');
      mkdirSync(dir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, `${SQLITE_FILE_NAME}-wal`), '', { mode: 0o644 }); // left by an older release
      chmodSync(join(dir, `${SQLITE_FILE_NAME}-wal`), 0o644);
      const old = process.umask(0o022);
      try {
        const store = new SqliteStore({ dataDir: dir, key: randomBytes(32) });
        await store.open();
        const inst = instanceRecord();
        await store.insertInstance(inst);
        await store.insertBinding(bindingRecord(inst.id));
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        const files = readdirSync(dir);
        assert.deepEqual(files.sort(), [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-shm`, `${SQLITE_FILE_NAME}-wal`, 'warren.lock']);
        for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
        await store.close();
      } finally {
        process.umask(old);
      }
    });

    it('refuses a database whose schema is newer than it knows', async () => {
      const dir = mkdtempSync(join(root, 'newer-'));
      const key = randomBytes(32);
      const store = new SqliteStore({ dataDir: dir, key });
      await store.open();
      await store.close();
      const db = new Database(join(dir, SQLITE_FILE_NAME));
      db.prepare("INSERT INTO warren_schema_version VALUES (99, 'later')").run();
      db.close();
      await assert.rejects(new SqliteStore({ dataDir: dir, key }).open(), new RegExp(`schema is version 99, newer than this warren supports \\(${SQLITE_MIGRATIONS.at(-1)!.version}\\)`));
    });
  });

  describe(':memory:', () => {
    it('works without touching the file system', async () => {
      const store = new SqliteStore({ dataDir: ':memory:', key: randomBytes(32) });
      await store.open();
      const inst = instanceRecord();
      const rec = bindingRecord(inst.id);
      await store.insertInstance(inst);
      await store.insertBinding(rec);
      assert.deepEqual(await store.getBinding(rec.id), rec);
      await store.close();
      assert.throws(() => statSync(':memory:'), { code: 'ENOENT' });
    });
  });
});
