// The shared store for several broker replicas: PostgreSQL through a bounded pg Pool. Each method
// is one named (server-side prepared, once per connection) statement; no transactions on the hot path.

import type pg from 'pg';
import { sealCredentials } from './credentials-crypto.ts';
import { BINDING_COLUMNS, INSTANCE_COLUMNS, OPERATION_COLUMNS, TableCodec, startedOn, toIsoInstant, type Dialect, type Row } from './columns.ts';
import { DEPLOYMENT_ID_KEY, newDeploymentId } from './meta.ts';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';
import { passwordOf, redactConnectionString, scrubError } from './postgres-url.ts';
import type { Keyring } from './keyring.ts';
import { reencryptCredentials, type ReencryptOptions, type ReencryptResult, type SealedRow } from './reencrypt.ts';
import { SecretBox } from './secret-box.ts';
import { isUnavailable, StoreUnavailableError } from './store-errors.ts';
import { insertSql, postgresPlaceholder as ph, selectList, updateSql } from './statement-text.ts';
import type {
  BeginResult, BindingPatch, FinishedOperation, BindingRecord, InstancePatch, InstanceRecord, OperationPatch, OperationRecord, OperationStart, Store,
} from './store.ts';

const DIALECT: Dialect = { jsonParsed: true, yes: true, no: false };
/** Serializes schema creation across brokers starting at once (any constant; 'warr'). */
const SCHEMA_LOCK_ID = 0x77617272;

/** Ends an operation we own ($1 id, $2 owner): state $3, description $4, follow-up $5, intent $7 where $6. */
const FINISH = `UPDATE warren_operations SET state = $3::text, description = $4::text, owner = NULL, lease_until = NULL,
  followup_at = $5::timestamptz, intent = CASE WHEN $6::boolean THEN $7::jsonb ELSE intent END, updated_at = clock_timestamp()
  WHERE id = $1::text AND owner = $2::text AND state = 'in progress'`;

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/db[?options=-c search_path=...] */
  url: string;
  /** 32-byte credentials encryption key, or a keyring of labelled keys (see keyring.ts). */
  key: Buffer | Keyring;
  /** Pool size; default 10. */
  maxConnections?: number;
  /** Errors of idle pooled connections (e.g. server restart); already scrubbed of the password. */
  onBackgroundError?: (err: Error) => void;
}

/** Named statements are prepared once per connection; unnamed ones are planned at each call. */
type Query = { name: string | undefined; text: string };

/**
 * Statements of background jobs and batches, planned at each call: PostgreSQL keeps a generic plan
 * after five runs of a prepared statement, costed for the tables as they were then. Before the
 * first ANALYZE (or with autovacuum off) that is an empty table, so `id = ANY($1)` kept a
 * sequential scan of every operation ever recorded (4 ms per batch of 16 after 4,000 cycles,
 * against 0.3 ms planned afresh). These run a few times a minute; planning them costs nothing.
 */
const PLANNED_EACH_CALL: ReadonlySet<string> = new Set([
  'credentialsNotUnder', 'replaceCredentials', 'pruneOperations', 'listAbandoned', 'dueFollowups', 'clearFollowups', 'rearmFollowup', 'pendingDoubt',
]);
type Queries = Record<keyof ReturnType<typeof queryTexts>, Query>;

export class PostgresStore implements Store {
  readonly #url: string;
  readonly #box: SecretBox;
  readonly #password: string | undefined;
  readonly #max: number;
  readonly #onBackgroundError: (err: Error) => void;
  readonly #instances: TableCodec<InstanceRecord>;
  readonly #bindings: TableCodec<BindingRecord>;
  readonly #operations: TableCodec<OperationRecord>;
  readonly #q: Queries;
  #pool: pg.Pool | undefined;

  constructor(options: PostgresStoreOptions) {
    const box = new SecretBox(options.key);
    this.#box = box;
    this.#url = options.url;
    this.#password = passwordOf(options.url);
    this.#max = options.maxConnections ?? 10;
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
    this.#instances = new TableCodec(INSTANCE_COLUMNS, box, DIALECT);
    this.#bindings = new TableCodec(BINDING_COLUMNS, box, DIALECT);
    this.#operations = new TableCodec(OPERATION_COLUMNS, box, DIALECT);
    const texts = queryTexts(this.#instances, this.#bindings, this.#operations);
    this.#q = Object.fromEntries(
      Object.entries(texts).map(([k, text]) => [k, { name: PLANNED_EACH_CALL.has(k) ? undefined : `warren_${k}`, text }]),
    ) as Queries;
  }

  /** Where the store connects, without the password (for logs). */
  get target(): string {
    return redactConnectionString(this.#url);
  }

  async open(): Promise<void> {
    if (this.#pool !== undefined) return;
    // Loaded on first open: a broker on SQLite never pays for the PostgreSQL driver (~8 MB RSS).
    const { default: driver } = await import('pg');
    const pool = new driver.Pool({
      connectionString: this.#url,
      max: this.#max,
      application_name: 'warren',
      // Bounded, so a request answers 503 within its budget while PostgreSQL is down.
      connectionTimeoutMillis: 3_000,
      query_timeout: 5_000,
      statement_timeout: 5_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    // Without a listener, an idle connection's error would crash the process.
    pool.on('error', (err) => this.#onBackgroundError(scrubError(err, this.#password, 'PostgreSQL: ')));
    try {
      await migrate(pool);
      // First open of this store: this is a new deployment. Replicas racing here keep the first id.
      await pool.query({ name: this.#q.insertMeta.name, text: this.#q.insertMeta.text, values: [DEPLOYMENT_ID_KEY, newDeploymentId()] });
    } catch (err) {
      await pool.end().catch(() => {});
      throw scrubError(err, this.#password, `cannot open the PostgreSQL store at ${this.target}: `);
    }
    this.#pool = pool;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  async ping(): Promise<void> {
    await this.#run(this.#q.ping, []);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const row = (await this.#run(this.#q.getInstance, [id])).rows[0];
    return row === undefined ? undefined : this.#instances.fromRow(row);
  }

  async insertInstance(rec: InstanceRecord): Promise<boolean> {
    return (await this.#run(this.#q.insertInstance, this.#instances.insertParams(rec))).rowCount === 1;
  }

  async updateInstance(id: string, patch: InstancePatch): Promise<void> {
    await this.#run(this.#q.updateInstance, this.#instances.updateParams(id, patch));
  }

  async deleteInstance(id: string): Promise<void> {
    try {
      await this.#run(this.#q.deleteInstance, [id]);
    } catch (err) {
      if (isForeignKeyError(err)) throw new Error(`instance ${id} still has bindings; delete them first`);
      throw err;
    }
  }

  async countInstances(): Promise<number> {
    return (await this.#run(this.#q.countInstances, [])).rows[0]?.['n'] as number;
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return (await this.#run(this.#q.listInstances, [])).rows.map((row) => this.#instances.fromRow(row));
  }

  async getBinding(id: string, opts?: { withCredentials?: boolean }): Promise<BindingRecord | undefined> {
    const row = (await this.#run(this.#q.getBinding, [id])).rows[0];
    if (row === undefined) return undefined;
    if (opts?.withCredentials === false) row['credentials'] = null;
    return this.#bindings.fromRow(row);
  }

  async insertBinding(rec: BindingRecord): Promise<boolean> {
    try {
      return (await this.#run(this.#q.insertBinding, this.#bindings.insertParams(rec))).rowCount === 1;
    } catch (err) {
      if (isForeignKeyError(err)) throw new Error(`cannot insert binding ${rec.id}: instance ${rec.instanceId} does not exist`);
      throw err;
    }
  }

  async updateBinding(id: string, patch: BindingPatch): Promise<void> {
    await this.#run(this.#q.updateBinding, this.#bindings.updateParams(id, patch));
  }

  async deleteBinding(id: string): Promise<void> {
    await this.#run(this.#q.deleteBinding, [id]);
  }

  async listBindings(instanceId: string): Promise<BindingRecord[]> {
    return (await this.#run(this.#q.listBindings, [instanceId])).rows.map((row) => this.#bindings.fromRow(row));
  }

  async listAllBindings(): Promise<BindingRecord[]> {
    return (await this.#run(this.#q.listAllBindings, [])).rows.map((row) => this.#bindings.fromRow({ ...row, credentials: null }));
  }

  async deploymentId(): Promise<string> {
    return (await this.#run(this.#q.getMeta, [DEPLOYMENT_ID_KEY])).rows[0]?.['value'] as string;
  }

  async insertOperation(rec: OperationRecord): Promise<void> {
    await this.#run(this.#q.insertOperation, this.#operations.insertParams(rec));
  }

  async updateOperation(id: string, patch: OperationPatch): Promise<void> {
    await this.#run(this.#q.updateOperation, this.#operations.updateParams(id, patch));
  }

  async getOperation(
    resourceType: 'instance' | 'binding', resourceId: string, operationId?: string,
  ): Promise<OperationRecord | undefined> {
    const res = operationId === undefined
      ? await this.#run(this.#q.newestOperation, [resourceType, resourceId])
      : await this.#run(this.#q.operationById, [operationId, resourceType, resourceId]);
    const row = res.rows[0];
    return row === undefined ? undefined : this.#operations.fromRow(row);
  }

  async pruneOperations(olderThan: string): Promise<number> {
    return (await this.#run(this.#q.pruneOperations, [toIsoInstant(olderThan)])).rowCount ?? 0;
  }

  async reencryptCredentials(opts?: ReencryptOptions): Promise<ReencryptResult> {
    return reencryptCredentials(this.#box, {
      select: async (prefix, afterId, limit) =>
        (await this.#run(this.#q.credentialsNotUnder, [prefix.length, prefix, afterId, limit])).rows as unknown as SealedRow[],
      // One statement per batch: each row is replaced only where it still holds what was read.
      replace: async (changes) =>
        (await this.#run(this.#q.replaceCredentials, [changes.map((c) => c.id), changes.map((c) => c.from), changes.map((c) => c.to)])).rowCount ?? 0,
    }, opts);
  }

  async beginOperation(op: OperationStart): Promise<BeginResult> {
    const row = (await this.#run(this.#q.beginOperation, [
      op.id, op.resourceType, op.resourceId, op.instanceId, op.kind, op.owner, op.leaseMs, op.intent === null ? null : JSON.stringify(op.intent),
      op.bindingState ?? null, op.insertBinding ? JSON.stringify(this.#bindings.jsonRow(op.insertBinding)) : null, op.supersededLookMs,
    ])).rows[0];
    const json = (name: string) => (row?.[name] ?? undefined) as Row | undefined;
    const blocking = json('blocking');
    if (blocking) return { started: false, blocking: this.#operations.fromRow(blocking) };
    return startedOn(op, json('instance'), json('binding'), this.#instances, this.#bindings);
  }

  async renewOperation(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.#run(this.#q.renewOperation, [id, owner, leaseMs])).rowCount === 1;
  }

  async finishOperation(id: string, owner: string, outcome: FinishedOperation): Promise<boolean> {
    const { state, description, followupAt, intent, effect } = outcome;
    const args = [id, owner, state, description, followupAt ? toIsoInstant(followupAt) : null, intent !== undefined, intent ? JSON.stringify(intent) : null];
    if (!effect) return (await this.#run(this.#q.finishOperation, args)).rowCount === 1;
    const res = 'remove' in effect
      ? await this.#run(this.#q.finishRemovingBinding, [...args, effect.bindingId])
      : await this.#run(this.#q.finishSettingBinding, [
          ...args, effect.bindingId, effect.state, effect.credentials ? sealCredentials(this.#box, effect.bindingId, effect.credentials) : null,
        ]);
    return Number(res.rows[0]?.['finished']) === 1;
  }

  async discardOperation(id: string, owner: string): Promise<void> {
    await this.#run(this.#q.discardOperation, [id, owner]);
  }

  async abandonOperation(id: string, owner: string): Promise<void> {
    await this.#run(this.#q.abandonOperation, [id, owner]);
  }

  async listAbandonedOperations(limit: number): Promise<OperationRecord[]> {
    return (await this.#run(this.#q.listAbandoned, [limit])).rows.map((row) => this.#operations.fromRow(row));
  }

  async takeOverOperation(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.#run(this.#q.takeOver, [id, owner, leaseMs])).rowCount === 1;
  }

  async listDueFollowups(limit: number): Promise<OperationRecord[]> {
    return (await this.#run(this.#q.dueFollowups, [limit])).rows.map((row) => this.#operations.fromRow(row));
  }

  async pendingDoubt(instanceId: string): Promise<boolean> {
    return (await this.#run(this.#q.pendingDoubt, [instanceId])).rows.length > 0;
  }

  async clearFollowups(ids: readonly string[]): Promise<void> {
    await this.#run(this.#q.clearFollowups, [ids]);
  }

  async rearmFollowup(id: string, followupAt: string, intent: Record<string, unknown> | null): Promise<void> {
    await this.#run(this.#q.rearmFollowup, [id, toIsoInstant(followupAt), intent === null ? null : JSON.stringify(intent)]);
  }

  async acquireLease(name: string, holder: string, leaseMs: number): Promise<number | null> {
    const row = (await this.#run(this.#q.acquireLease, [name, holder, leaseMs])).rows[0];
    return row === undefined ? null : Number(row['epoch']);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#run(this.#q.releaseLease, [name, holder]);
  }

  async #run(q: Query, values: unknown[]): Promise<pg.QueryResult<Row>> {
    const pool = this.#pool;
    if (pool === undefined) throw new Error('the PostgreSQL store is not open (call open() first)');
    try {
      return await pool.query<Row>({ name: q.name, text: q.text, values });
    } catch (err) {
      const scrubbed = scrubError(err, this.#password);
      if (isUnavailable(err)) throw new StoreUnavailableError(`PostgreSQL store unavailable: ${scrubbed.message}`, { cause: scrubbed });
      throw scrubbed;
    }
  }
}

/** Every statement the store runs; named, so each pooled connection prepares it once. */
function queryTexts(
  instances: TableCodec<InstanceRecord>,
  bindings: TableCodec<BindingRecord>,
  operations: TableCodec<OperationRecord>,
) {
  const inst = INSTANCE_COLUMNS;
  const bind = BINDING_COLUMNS;
  const op = OPERATION_COLUMNS;
  return {
    ping: 'SELECT 1',
    getInstance: `SELECT ${selectList(inst)} FROM warren_instances WHERE id = $1`,
    insertInstance: insertSql('warren_instances', inst, ph, true),
    updateInstance: updateSql('warren_instances', instances.patchColumns, ph),
    deleteInstance: 'DELETE FROM warren_instances WHERE id = $1',
    countInstances: 'SELECT count(*)::int AS n FROM warren_instances',
    listInstances: `SELECT ${selectList(inst)} FROM warren_instances ORDER BY created_at, id`,
    listAllBindings: `SELECT ${selectList(bind)} FROM warren_bindings ORDER BY created_at, id`,
    insertMeta: 'INSERT INTO warren_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
    getMeta: 'SELECT value FROM warren_meta WHERE key = $1',
    getBinding: `SELECT ${selectList(bind)} FROM warren_bindings WHERE id = $1`,
    insertBinding: insertSql('warren_bindings', bind, ph, true),
    updateBinding: updateSql('warren_bindings', bindings.patchColumns, ph),
    deleteBinding: 'DELETE FROM warren_bindings WHERE id = $1',
    listBindings: `SELECT ${selectList(bind)} FROM warren_bindings WHERE instance_id = $1 ORDER BY created_at, id`,
    insertOperation: insertSql('warren_operations', op, ph, false),
    updateOperation: updateSql('warren_operations', operations.patchColumns, ph),
    newestOperation: `SELECT ${selectList(op)} FROM warren_operations WHERE resource_type = $1 AND resource_id = $2
      ORDER BY created_at DESC, seq DESC LIMIT 1`,
    operationById: `SELECT ${selectList(op)} FROM warren_operations WHERE id = $1 AND resource_type = $2 AND resource_id = $3`,
    // "Older" by updated_at: a long-running operation that just finished is still being polled.
    credentialsNotUnder: `SELECT id, credentials FROM warren_bindings
      WHERE credentials IS NOT NULL AND substr(credentials, 1, $1::int) <> $2 AND id COLLATE "C" > $3 ORDER BY id COLLATE "C" LIMIT $4`,
    replaceCredentials: `UPDATE warren_bindings AS b SET credentials = c.to_value
      FROM unnest($1::text[], $2::text[], $3::text[]) AS c(id, from_value, to_value)
      WHERE b.id = c.id AND b.credentials = c.from_value`,
    pruneOperations: `DELETE FROM warren_operations WHERE state <> 'in progress' AND updated_at < $1::timestamptz
      AND followup_at IS NULL`,
    beginOperation: `SELECT blocking, instance, binding
      FROM warren_begin_operation_rows($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::integer, $8::jsonb, $9::text, $10::jsonb, $11::integer)`,
    renewOperation: `UPDATE warren_operations SET lease_until = clock_timestamp() + $3::integer * interval '1 millisecond'
      WHERE id = $1::text AND owner = $2::text AND state = 'in progress'`,
    finishOperation: FINISH,
    // The outcome and the binding's change in one statement: the binding only if the operation was still ours.
    finishRemovingBinding: `WITH fin AS (${FINISH} RETURNING id),
      gone AS (DELETE FROM warren_bindings WHERE id = $8::text AND EXISTS (SELECT 1 FROM fin))
      SELECT count(*) AS finished FROM fin`,
    finishSettingBinding: `WITH fin AS (${FINISH} RETURNING id),
      upd AS (UPDATE warren_bindings SET state = $9::text, credentials = coalesce($10::text, credentials), updated_at = clock_timestamp()
        WHERE id = $8::text AND EXISTS (SELECT 1 FROM fin))
      SELECT count(*) AS finished FROM fin`,
    discardOperation: `DELETE FROM warren_operations WHERE id = $1::text AND owner = $2::text AND state = 'in progress'`,
    abandonOperation: `UPDATE warren_operations SET lease_until = clock_timestamp() - interval '1 millisecond'
      WHERE id = $1::text AND owner = $2::text AND state = 'in progress'`,
    listAbandoned: `SELECT ${selectList(op)} FROM warren_operations
      WHERE state = 'in progress' AND coalesce(lease_until, '-infinity') <= clock_timestamp() ORDER BY created_at LIMIT $1::integer`,
    takeOver: `UPDATE warren_operations SET owner = $2::text, lease_until = clock_timestamp() + $3::integer * interval '1 millisecond',
      updated_at = clock_timestamp()
      WHERE id = $1::text AND state = 'in progress' AND coalesce(lease_until, '-infinity') <= clock_timestamp()`,
    dueFollowups: `SELECT ${selectList(op)} FROM warren_operations
      WHERE followup_at IS NOT NULL AND followup_at <= clock_timestamp() ORDER BY followup_at LIMIT $1::integer`,
    clearFollowups: 'UPDATE warren_operations SET followup_at = NULL WHERE id = ANY($1::text[])',
    pendingDoubt: `SELECT 1 AS doubt FROM warren_operations WHERE resource_type = 'instance' AND resource_id = $1::text
      AND followup_at IS NOT NULL AND intent @> '{"writesInDoubt": true}'::jsonb LIMIT 1`,
    rearmFollowup: `UPDATE warren_operations SET followup_at = $2::timestamptz, intent = $3::jsonb
      WHERE id = $1::text AND state <> 'in progress'`,
    // A holder renews its own lease; anyone may take an expired one (the epoch rises then).
    acquireLease: `INSERT INTO warren_leases AS l (name, holder, epoch, expires_at)
      VALUES ($1::text, $2::text, 1, clock_timestamp() + $3::integer * interval '1 millisecond')
      ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
        epoch = l.epoch + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END
      WHERE l.holder = EXCLUDED.holder OR l.expires_at <= clock_timestamp()
      RETURNING epoch`,
    releaseLease: `UPDATE warren_leases SET expires_at = '-infinity' WHERE name = $1::text AND holder = $2::text`,
  };
}

/**
 * Creates or upgrades the schema in one transaction, holding an advisory lock so brokers starting
 * together do not race on CREATE TABLE (IF NOT EXISTS is not safe under concurrency).
 */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS warren_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const current = (await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM warren_schema_version')).rows[0]?.v ?? 0;
    const latest = POSTGRES_MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(`the database schema is version ${current}, newer than this warren supports (${latest}); upgrade warren`);
    }
    for (const m of POSTGRES_MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO warren_schema_version (version) VALUES ($1)', [m.version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

function isForeignKeyError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23503';
}
