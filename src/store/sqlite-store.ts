// The default store: one SQLite file, <dataDir>/warren.db (or ':memory:'), through better-sqlite3.
// better-sqlite3 is synchronous; each call is one prepared statement on one connection, so the
// async methods simply run it (and concurrent callers are naturally serialized).

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sealCredentials } from './credentials-crypto.ts';
import { BINDING_COLUMNS, INSTANCE_COLUMNS, OPERATION_COLUMNS, TableCodec, startedOn, toIsoInstant, type Dialect, type Row } from './columns.ts';
import type { Keyring } from './keyring.ts';
import { lockDataDir } from './process-lock.ts';
import { reencryptCredentials, type ReencryptOptions, type ReencryptResult, type SealedRow } from './reencrypt.ts';
import { SecretBox } from './secret-box.ts';
import { DEPLOYMENT_ID_KEY, newDeploymentId } from './meta.ts';
import { ensurePrivateDir, ensurePrivateFile, tightenIfPresent } from './private-files.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { insertSql, selectList, sqlitePlaceholder as ph, updateSql } from './statement-text.ts';
import type {
  BeginResult, BindingEffect, BindingPatch, FinishedOperation, BindingRecord, InstancePatch, InstanceRecord, OperationPatch, OperationRecord, OperationStart, Store,
} from './store.ts';

export const SQLITE_FILE_NAME = 'warren.db';

const DIALECT: Dialect = { jsonParsed: false, yes: 1, no: 0 };
const BUSY_TIMEOUT_MS = 5000;

type Stmt = Database.Statement<unknown[], Row>;

export interface SqliteStoreOptions {
  /** Directory for warren.db (created 0700 when missing), or ':memory:'. */
  dataDir: string;
  /** 32-byte credentials encryption key, or a keyring of labelled keys (see keyring.ts). */
  key: Buffer | Keyring;
  /**
   * Default true: take the data dir for this process (a second server refuses to start). Tools
   * that only read beside a running server, or that run with it stopped, pass false.
   */
  exclusive?: boolean;
}

export class SqliteStore implements Store {
  readonly path: string;
  readonly #dataDir: string;
  readonly #box: SecretBox;
  readonly #instances: TableCodec<InstanceRecord>;
  readonly #bindings: TableCodec<BindingRecord>;
  readonly #operations: TableCodec<OperationRecord>;
  #db: Database.Database | undefined;
  #s: Statements | undefined;
  #begin: Database.Transaction<(o: OperationStart) => BeginResult> | undefined;
  #clearFollowups: Database.Transaction<(ids: readonly string[]) => void> | undefined;
  #finish: Database.Transaction<(e: BindingEffect, args: unknown[], at: string) => boolean> | undefined;
  readonly #exclusive: boolean;
  #lock: { release(): void } | undefined;

  constructor(options: SqliteStoreOptions) {
    const box = new SecretBox(options.key);
    this.#box = box;
    this.#dataDir = options.dataDir;
    this.#exclusive = options.exclusive ?? true;
    this.path = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, SQLITE_FILE_NAME);
    this.#instances = new TableCodec(INSTANCE_COLUMNS, box, DIALECT);
    this.#bindings = new TableCodec(BINDING_COLUMNS, box, DIALECT);
    this.#operations = new TableCodec(OPERATION_COLUMNS, box, DIALECT);
  }

  async open(): Promise<void> {
    if (this.#db !== undefined) return;
    if (this.path !== ':memory:') {
      ensurePrivateDir(this.#dataDir);
      if (this.#exclusive) this.#lock = lockDataDir(this.#dataDir);
    }
    let db: Database.Database;
    try {
      if (this.path !== ':memory:') ensurePrivateFile(this.path);
      db = new Database(this.path, { timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      this.#releaseLock();
      throw err;
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('synchronous = NORMAL'); // with WAL: durable except for the last commits on power loss
      db.pragma('foreign_keys = ON');
      migrate(db);
      // WAL and SHM inherit the database file's mode; files left by an older release are tightened.
      if (this.path !== ':memory:') for (const f of [`${this.path}-wal`, `${this.path}-shm`]) tightenIfPresent(f);
      this.#s = prepareStatements(db, this.#instances, this.#bindings, this.#operations);
      // First open of this store: this is a new deployment. A second process racing here keeps the first id.
      this.#s.insertMeta.run(DEPLOYMENT_ID_KEY, newDeploymentId());
    } catch (err) {
      db.close();
      this.#releaseLock();
      throw err;
    }
    this.#db = db;
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#s = undefined;
    this.#begin = undefined;
    this.#finish = undefined;
    this.#clearFollowups = undefined;
    db?.close();
    this.#releaseLock();
  }

  #releaseLock(): void {
    this.#lock?.release();
    this.#lock = undefined;
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const row = this.stmts.getInstance.get(id);
    return row === undefined ? undefined : this.#instances.fromRow(row);
  }

  async insertInstance(rec: InstanceRecord): Promise<boolean> {
    return this.stmts.insertInstance.run(...this.#instances.insertParams(rec)).changes === 1;
  }

  async updateInstance(id: string, patch: InstancePatch): Promise<void> {
    this.stmts.updateInstance.run(...this.#instances.updateParams(id, patch));
  }

  async deleteInstance(id: string): Promise<void> {
    try {
      this.stmts.deleteInstance.run(id);
    } catch (err) {
      if (isForeignKeyError(err)) throw new Error(`instance ${id} still has bindings; delete them first`);
      throw err;
    }
  }

  async countInstances(): Promise<number> {
    return this.stmts.countInstances.get()?.['n'] as number;
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return this.stmts.listInstances.all().map((row) => this.#instances.fromRow(row));
  }

  async getBinding(id: string, opts?: { withCredentials?: boolean }): Promise<BindingRecord | undefined> {
    const row = this.stmts.getBinding.get(id);
    if (row === undefined) return undefined;
    if (opts?.withCredentials === false) row['credentials'] = null;
    return this.#bindings.fromRow(row);
  }

  async insertBinding(rec: BindingRecord): Promise<boolean> {
    try {
      return this.stmts.insertBinding.run(...this.#bindings.insertParams(rec)).changes === 1;
    } catch (err) {
      if (isForeignKeyError(err)) throw new Error(`cannot insert binding ${rec.id}: instance ${rec.instanceId} does not exist`);
      throw err;
    }
  }

  async updateBinding(id: string, patch: BindingPatch): Promise<void> {
    this.stmts.updateBinding.run(...this.#bindings.updateParams(id, patch));
  }

  async deleteBinding(id: string): Promise<void> {
    this.stmts.deleteBinding.run(id);
  }

  async listBindings(instanceId: string): Promise<BindingRecord[]> {
    return this.stmts.listBindings.all(instanceId).map((row) => this.#bindings.fromRow(row));
  }

  async listAllBindings(): Promise<BindingRecord[]> {
    return this.stmts.listAllBindings.all().map((row) => this.#bindings.fromRow({ ...row, credentials: null }));
  }

  async deploymentId(): Promise<string> {
    return this.stmts.getMeta.get(DEPLOYMENT_ID_KEY)?.['value'] as string;
  }

  async insertOperation(rec: OperationRecord): Promise<void> {
    this.stmts.insertOperation.run(...this.#operations.insertParams(rec));
  }

  async updateOperation(id: string, patch: OperationPatch): Promise<void> {
    this.stmts.updateOperation.run(...this.#operations.updateParams(id, patch));
  }

  async getOperation(
    resourceType: 'instance' | 'binding', resourceId: string, operationId?: string,
  ): Promise<OperationRecord | undefined> {
    const row = operationId === undefined
      ? this.stmts.newestOperation.get(resourceType, resourceId)
      : this.stmts.operationById.get(operationId, resourceType, resourceId);
    return row === undefined ? undefined : this.#operations.fromRow(row);
  }

  async pruneOperations(olderThan: string): Promise<number> {
    return this.stmts.pruneOperations.run(toIsoInstant(olderThan)).changes;
  }

  async reencryptCredentials(opts?: ReencryptOptions): Promise<ReencryptResult> {
    const s = this.stmts;
    const db = this.db;
    // One short write transaction per batch; BEGIN IMMEDIATE waits (busy_timeout) for a running server's writes.
    const replaceBatch = db.transaction((changes: Array<{ id: string; from: string; to: string }>) =>
      changes.reduce((n, c) => n + s.replaceCredentials.run(c.to, c.id, c.from).changes, 0));
    return reencryptCredentials(this.#box, {
      select: async (prefix, afterId, limit) => s.credentialsNotUnder.all(prefix.length, prefix, afterId, limit) as unknown as SealedRow[],
      replace: async (changes) => replaceBatch.immediate(changes),
    }, opts);
  }

  async beginOperation(op: OperationStart): Promise<BeginResult> {
    const s = this.stmts;
    const begin = this.#begin ??= this.db.transaction((o: OperationStart): BeginResult => {
      const t = new Date().toISOString();
      const scope = [o.resourceType, o.instanceId, o.resourceType, o.instanceId, o.resourceId];
      s.supersedeExpired.run(later(o.supersededLookMs), t, t, ...scope);
      const row = s.activeConflict.get(...scope);
      if (row !== undefined) return { started: false, blocking: this.#operations.fromRow(row) };
      s.insertOperation.run(...this.#operations.insertParams({
        id: o.id, resourceType: o.resourceType, resourceId: o.resourceId, instanceId: o.instanceId, kind: o.kind,
        state: 'in progress', description: null, owner: o.owner, leaseUntil: later(o.leaseMs), intent: o.intent,
        followupAt: null, createdAt: t, updatedAt: t,
      }));
      if (o.resourceType === 'binding' && o.bindingState) s.setBindingState.run(o.bindingState, t, o.resourceId, o.instanceId, o.bindingState);
      if (o.resourceType === 'binding' && o.insertBinding) s.insertBindingIfInstance.run(...this.#bindings.insertParams(o.insertBinding), o.instanceId, o.insertBinding.planId);
      const binding = o.resourceType === 'binding' ? s.getBinding.get(o.resourceId) : undefined;
      return startedOn(o, s.getInstance.get(o.instanceId), binding, this.#instances, this.#bindings);
    });
    return begin.immediate(op);
  }

  async renewOperation(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.stmts.renewOperation.run(later(leaseMs), id, owner).changes === 1;
  }

  async finishOperation(id: string, owner: string, outcome: FinishedOperation): Promise<boolean> {
    const s = this.stmts;
    const { state, description, followupAt, intent, effect } = outcome;
    const t = new Date().toISOString();
    const args = [state, description, followupAt ? toIsoInstant(followupAt) : null, intent === undefined ? 0 : 1, intent ? JSON.stringify(intent) : null, t, id, owner];
    if (!effect) return s.finishOperation.run(...args).changes === 1;
    const finish = this.#finish ??= this.db.transaction((e: BindingEffect, a: unknown[], at: string): boolean => {
      if (s.finishOperation.run(...a).changes !== 1) return false;
      if ('remove' in e) s.deleteBinding.run(e.bindingId);
      else if (e.credentials) s.setBindingReady.run(e.state, sealCredentials(this.#box, e.bindingId, e.credentials), at, e.bindingId);
      else s.setBindingState.run(e.state, at, e.bindingId, null, e.state);
      return true;
    });
    return finish.immediate(effect, args, t);
  }

  async discardOperation(id: string, owner: string): Promise<void> {
    this.stmts.discardOperation.run(id, owner);
  }

  async abandonOperation(id: string, owner: string): Promise<void> {
    this.stmts.renewOperation.run(later(-1), id, owner);
  }

  async listAbandonedOperations(limit: number): Promise<OperationRecord[]> {
    return this.stmts.listAbandoned.all(new Date().toISOString(), limit).map((row) => this.#operations.fromRow(row));
  }

  async takeOverOperation(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const t = new Date().toISOString();
    return this.stmts.takeOver.run(owner, later(leaseMs), t, id, t).changes === 1;
  }

  async listDueFollowups(limit: number): Promise<OperationRecord[]> {
    return this.stmts.dueFollowups.all(new Date().toISOString(), limit).map((row) => this.#operations.fromRow(row));
  }

  async pendingDoubt(instanceId: string): Promise<boolean> {
    return this.stmts.pendingDoubt.get(instanceId) !== undefined;
  }

  async clearFollowups(ids: readonly string[]): Promise<void> {
    const s = this.stmts;
    const clear = this.#clearFollowups ??= this.db.transaction((list: readonly string[]) => {
      for (const id of list) s.clearFollowup.run(id);
    });
    clear.immediate(ids);
  }

  async rearmFollowup(id: string, followupAt: string, intent: Record<string, unknown> | null): Promise<void> {
    this.stmts.rearmFollowup.run(toIsoInstant(followupAt), intent === null ? null : JSON.stringify(intent), id);
  }

  async acquireLease(name: string, holder: string, leaseMs: number): Promise<number | null> {
    const row = this.stmts.acquireLease.get(name, holder, later(leaseMs), new Date().toISOString());
    return row === undefined ? null : Number(row['epoch']);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.stmts.releaseLease.run(name, holder);
  }

  private get db(): Database.Database {
    if (this.#db === undefined) throw new Error('the SQLite store is not open (call open() first)');
    return this.#db;
  }

  private get stmts(): Statements {
    if (this.#s === undefined) throw new Error('the SQLite store is not open (call open() first)');
    return this.#s;
  }
}

type Statements = ReturnType<typeof prepareStatements>;

/** An instance operation holds the instance and all its bindings; a binding one its binding and (shared) its instance. */
const CONFLICT = `((? = 'instance' AND instance_id = ?)
  OR (? = 'binding' AND ((resource_type = 'instance' AND resource_id = ?) OR (resource_type = 'binding' AND resource_id = ?))))`;

/** ISO time `ms` from now (the store's clock). */
const later = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** Every statement the store runs, prepared once per open(). */
function prepareStatements(
  db: Database.Database,
  instances: TableCodec<InstanceRecord>,
  bindings: TableCodec<BindingRecord>,
  operations: TableCodec<OperationRecord>,
) {
  const p = (sql: string): Stmt => db.prepare<unknown[], Row>(sql);
  const inst = INSTANCE_COLUMNS;
  const bind = BINDING_COLUMNS;
  const op = OPERATION_COLUMNS;
  return {
    ping: p('SELECT 1'),
    getInstance: p(`SELECT ${selectList(inst)} FROM warren_instances WHERE id = ?`),
    insertInstance: p(insertSql('warren_instances', inst, ph, true)),
    updateInstance: p(updateSql('warren_instances', instances.patchColumns, ph)),
    deleteInstance: p('DELETE FROM warren_instances WHERE id = ?'),
    countInstances: p('SELECT count(*) AS n FROM warren_instances'),
    listInstances: p(`SELECT ${selectList(inst)} FROM warren_instances ORDER BY created_at, id`),
    listAllBindings: p(`SELECT ${selectList(bind)} FROM warren_bindings ORDER BY created_at, id`),
    insertMeta: p('INSERT INTO warren_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getMeta: p('SELECT value FROM warren_meta WHERE key = ?'),
    getBinding: p(`SELECT ${selectList(bind)} FROM warren_bindings WHERE id = ?`),
    insertBinding: p(insertSql('warren_bindings', bind, ph, true)),
    updateBinding: p(updateSql('warren_bindings', bindings.patchColumns, ph)),
    deleteBinding: p('DELETE FROM warren_bindings WHERE id = ?'),
    // A bind's row, inserted with its operation where the instance takes binds on that plan.
    insertBindingIfInstance: p(`${insertSql('warren_bindings', bind, ph, false).replace(/ VALUES \((.*)\)$/s, ' SELECT $1')}
      WHERE EXISTS (SELECT 1 FROM warren_instances i WHERE i.id = ? AND i.state IN ('ready', 'updating') AND i.plan_id = ?)
      ON CONFLICT (id) DO NOTHING`),
    setBindingReady: p('UPDATE warren_bindings SET state = ?, credentials = ?, updated_at = ? WHERE id = ?'),
    // Parameters: state, updated_at, id, instance id (or null: any), state again.
    setBindingState: p(`UPDATE warren_bindings SET state = ?, updated_at = ?
      WHERE id = ? AND instance_id = coalesce(?, instance_id) AND state <> ?`),
    listBindings: p(`SELECT ${selectList(bind)} FROM warren_bindings WHERE instance_id = ? ORDER BY created_at, id`),
    insertOperation: p(insertSql('warren_operations', op, ph, false)),
    updateOperation: p(updateSql('warren_operations', operations.patchColumns, ph)),
    // rowid grows with each insert: it breaks ties between operations created in the same millisecond.
    newestOperation: p(
      `SELECT ${selectList(op)} FROM warren_operations WHERE resource_type = ? AND resource_id = ?
       ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    ),
    operationById: p(`SELECT ${selectList(op)} FROM warren_operations WHERE id = ? AND resource_type = ? AND resource_id = ?`),
    // "Older" by updated_at: a long-running operation that just finished is still being polled.
    pruneOperations: p(`DELETE FROM warren_operations WHERE state <> 'in progress' AND updated_at < ? AND followup_at IS NULL`),
    credentialsNotUnder: p(`SELECT id, credentials FROM warren_bindings
       WHERE credentials IS NOT NULL AND substr(credentials, 1, ?) <> ? AND id > ? ORDER BY id LIMIT ?`),
    replaceCredentials: p('UPDATE warren_bindings SET credentials = ? WHERE id = ? AND credentials = ?'),
    // The conflict's parameters in the two below: type, instance, type, instance, resource (see beginOperation).
    // Parameters: followup_at, updated_at, now, then the five of the conflict.
    supersedeExpired: p(`UPDATE warren_operations
      SET state = 'failed', description = 'abandoned by a replica that stopped; superseded by a newer request',
          owner = NULL, lease_until = NULL, followup_at = ?, intent = json_set(coalesce(intent, '{}'), '$.writesInDoubt', json('true')),
          updated_at = ?
      WHERE state = 'in progress' AND coalesce(lease_until, '') <= ? AND ${CONFLICT}`),
    activeConflict: p(`SELECT ${selectList(op)} FROM warren_operations WHERE state = 'in progress' AND ${CONFLICT} LIMIT 1`),
    discardOperation: p(`DELETE FROM warren_operations WHERE id = ? AND owner = ? AND state = 'in progress'`),
    renewOperation: p(`UPDATE warren_operations SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'in progress'`),
    // Parameters: state, description, followup_at, whether to set the intent (1/0), intent, updated_at, id, owner.
    finishOperation: p(`UPDATE warren_operations SET state = ?, description = ?, owner = NULL, lease_until = NULL, followup_at = ?,
      intent = CASE WHEN ? THEN ? ELSE intent END, updated_at = ? WHERE id = ? AND owner = ? AND state = 'in progress'`),
    listAbandoned: p(`SELECT ${selectList(op)} FROM warren_operations
      WHERE state = 'in progress' AND coalesce(lease_until, '') <= ? ORDER BY created_at LIMIT ?`),
    takeOver: p(`UPDATE warren_operations SET owner = ?, lease_until = ?, updated_at = ?
      WHERE id = ? AND state = 'in progress' AND coalesce(lease_until, '') <= ?`),
    dueFollowups: p(`SELECT ${selectList(op)} FROM warren_operations
      WHERE followup_at IS NOT NULL AND followup_at <= ? ORDER BY followup_at LIMIT ?`),
    clearFollowup: p('UPDATE warren_operations SET followup_at = NULL WHERE id = ?'),
    pendingDoubt: p(`SELECT 1 AS doubt FROM warren_operations WHERE resource_type = 'instance' AND resource_id = ?
      AND followup_at IS NOT NULL AND json_extract(intent, '$.writesInDoubt') = 1 LIMIT 1`),
    rearmFollowup: p(`UPDATE warren_operations SET followup_at = ?, intent = ? WHERE id = ? AND state <> 'in progress'`),
    // A holder renews its own lease; anyone may take an expired one (the epoch rises then).
    acquireLease: p(`INSERT INTO warren_leases AS l (name, holder, epoch, expires_at) VALUES (?, ?, 1, ?)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
        epoch = l.epoch + CASE WHEN l.holder = excluded.holder THEN 0 ELSE 1 END
      WHERE l.holder = excluded.holder OR l.expires_at <= ?
      RETURNING epoch`),
    releaseLease: p(`UPDATE warren_leases SET expires_at = '' WHERE name = ? AND holder = ?`),
  };
}

/** Applies the migrations this version knows, once, under a write lock (BEGIN IMMEDIATE). */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS warren_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const current = (db.prepare('SELECT coalesce(max(version), 0) AS v FROM warren_schema_version').get() as { v: number }).v;
    const latest = SQLITE_MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(`the database schema is version ${current}, newer than this warren supports (${latest}); upgrade warren`);
    }
    const record = db.prepare('INSERT INTO warren_schema_version (version, applied_at) VALUES (?, ?)');
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, new Date().toISOString());
    }
  }).immediate();
}

function isForeignKeyError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
