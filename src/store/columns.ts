// The three tables' columns, described once for both stores and both schemas (table-ddl.ts), and
// the record <-> row conversion (JSON, ISO dates, sealed credentials) that goes with them.

import { openCredentials, sealCredentials } from './credentials-crypto.ts';
import type { SecretBox } from './secret-box.ts';
import type { BeginResult, BindingRecord, InstanceRecord, OperationRecord, OperationStart } from './store.ts';

/** 'credentials': sealed text (secret-box.ts), not JSON. */
export type ColumnKind = 'text' | 'json' | 'date' | 'credentials';

export interface Column<R> {
  readonly field: keyof R & string;
  readonly name: string;
  readonly kind: ColumnKind;
  /** May update*() change it? (updated_at is always set and handled apart.) */
  readonly patchable: boolean;
  /** NOT NULL in the table. */
  readonly required: boolean;
  /** The schema migration that added it (table-ddl.ts writes each migration's columns). */
  readonly since: number;
}

/** 'fixed': update*() leaves it alone; 'required': NOT NULL. */
type Trait = 'fixed' | 'required';

const col = <R>(field: keyof R & string, name: string, kind: ColumnKind, ...traits: Trait[]): Column<R> => ({
  field, name, kind, patchable: !traits.includes('fixed'), required: traits.includes('required'), since: 1,
});

const addedIn = <R>(since: number, c: Column<R>): Column<R> => ({ ...c, since });

// Columns more than one table has, described once (each table keeps its own column order).
type Timestamped = { createdAt: string; updatedAt: string };
type Offered = { serviceId: string; planId: string };
type AsRequested = { parameters: Record<string, unknown> | null; context: Record<string, unknown> | null };
const timestamps = <R extends Timestamped>(): Column<R>[] => [
  col<R>('createdAt', 'created_at', 'date', 'fixed', 'required'),
  col<R>('updatedAt', 'updated_at', 'date', 'fixed', 'required'),
];
const offering = <R extends Offered>(): Column<R>[] => [col<R>('serviceId', 'service_id', 'text', 'required'), col<R>('planId', 'plan_id', 'text', 'required')];
const asRequested = <R extends AsRequested>(): Column<R>[] => [col<R>('parameters', 'parameters', 'json'), col<R>('context', 'context', 'json')];

export const INSTANCE_COLUMNS: readonly Column<InstanceRecord>[] = [
  col('id', 'id', 'text', 'fixed'),
  ...offering<InstanceRecord>(),
  col('organizationGuid', 'organization_guid', 'text', 'required'),
  col('spaceGuid', 'space_guid', 'text', 'required'),
  ...asRequested<InstanceRecord>(),
  col('maintenanceInfoVersion', 'maintenance_info_version', 'text'),
  col('vhost', 'vhost', 'text', 'required'),
  col('dashboardUrl', 'dashboard_url', 'text'),
  col('state', 'state', 'text', 'required'),
  ...timestamps<InstanceRecord>(),
];

export const BINDING_COLUMNS: readonly Column<BindingRecord>[] = [
  col('id', 'id', 'text', 'fixed'),
  col('instanceId', 'instance_id', 'text', 'fixed', 'required'),
  ...offering<BindingRecord>(),
  col('appGuid', 'app_guid', 'text'),
  col('bindResource', 'bind_resource', 'json'),
  ...asRequested<BindingRecord>(),
  col('predecessorBindingId', 'predecessor_binding_id', 'text'),
  col('username', 'username', 'text', 'required'),
  col('credentials', 'credentials', 'credentials'),
  col('state', 'state', 'text', 'required'),
  ...timestamps<BindingRecord>(),
];

export const OPERATION_COLUMNS: readonly Column<OperationRecord>[] = [
  col('id', 'id', 'text', 'fixed'),
  col('resourceType', 'resource_type', 'text', 'fixed', 'required'),
  col('resourceId', 'resource_id', 'text', 'fixed', 'required'),
  col('instanceId', 'instance_id', 'text', 'fixed', 'required'),
  col('kind', 'kind', 'text', 'fixed', 'required'),
  col('state', 'state', 'text', 'required'),
  col('description', 'description', 'text'),
  addedIn(3, col('owner', 'owner', 'text', 'fixed')),
  addedIn(3, col('leaseUntil', 'lease_until', 'date', 'fixed')),
  addedIn(3, col('intent', 'intent', 'json')),
  addedIn(3, col('followupAt', 'followup_at', 'date', 'fixed')),
  ...timestamps<OperationRecord>(),
];

/**
 * Dates are stored and returned as UTC ISO 8601 with milliseconds, whatever offset they were given
 * in, so both stores agree and SQLite's text comparison orders them correctly.
 */
export function toIsoInstant(value: string | Date): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a valid date: ${JSON.stringify(value)}`);
  return d.toISOString();
}

export interface Dialect {
  /** The driver returns JSON columns already parsed (pg jsonb) rather than as text (SQLite). */
  readonly jsonParsed: boolean;
  /** How a CASE WHEN flag is bound: 1/0 for SQLite, booleans for PostgreSQL. */
  readonly yes: unknown;
  readonly no: unknown;
}

export type Row = Record<string, unknown>;

/**
 * A started operation's answer from the rows begin read after the lock. The bind's own row, as
 * begin just inserted it (same username), comes back with the credentials it was given: begin
 * does not open what it sealed a moment ago. Other credentials are opened only when asked for.
 */
export function startedOn(
  o: OperationStart, instance: Row | undefined, binding: Row | undefined,
  instances: TableCodec<InstanceRecord>, bindings: TableCodec<BindingRecord>,
): BeginResult {
  const inserted = binding && o.insertBinding && binding['username'] === o.insertBinding.username ? o.insertBinding : undefined;
  if (binding && (!o.withCredentials || inserted)) binding['credentials'] = null;
  const rec = binding === undefined ? undefined : bindings.fromRow(binding);
  return {
    started: true,
    instance: instance === undefined ? undefined : instances.fromRow(instance),
    binding: rec && inserted ? { ...rec, credentials: inserted.credentials } : rec,
  };
}

/** Converts one table's records to statement parameters and rows back to records. */
export class TableCodec<R extends { id: string; updatedAt: string }> {
  readonly patchColumns: readonly Column<R>[];

  constructor(readonly columns: readonly Column<R>[], private readonly box: SecretBox, private readonly dialect: Dialect) {
    this.patchColumns = columns.filter((c) => c.patchable);
  }

  /** The row as one JSON object keyed by column name (for PostgreSQL's jsonb_populate_record). */
  jsonRow(rec: R): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (const c of this.columns) row[c.name] = c.kind === 'json' ? (rec[c.field] ?? null) : this.encode(c, rec[c.field], rec.id);
    return row;
  }

  /** Parameters for `INSERT (all columns, in order)`. */
  insertParams(rec: R): unknown[] {
    return this.columns.map((c) => this.encode(c, rec[c.field], rec.id));
  }

  /**
   * Parameters for `UPDATE SET <col> = CASE WHEN ? THEN ? ELSE <col> END, ..., updated_at = ? WHERE id = ?`:
   * a (flag, value) pair per patchable column, so one static statement serves every patch.
   * An absent or undefined field is left alone; null sets NULL. updated_at defaults to now.
   */
  updateParams(id: string, patch: Partial<R>): unknown[] {
    const params: unknown[] = [];
    for (const c of this.patchColumns) {
      const v = patch[c.field];
      if (v === undefined) params.push(this.dialect.no, null);
      else params.push(this.dialect.yes, this.encode(c, v, id));
    }
    params.push(toIsoInstant(patch.updatedAt ?? new Date()), id);
    return params;
  }

  fromRow(row: Row): R {
    const id = row['id'] as string;
    const rec: Record<string, unknown> = {};
    for (const c of this.columns) rec[c.field] = this.decode(c, row[c.name], id);
    return rec as R; // the columns list covers every field of R
  }

  private encode(c: Column<R>, v: unknown, id: string): unknown {
    switch (c.kind) {
      case 'text':
        return v ?? null;
      case 'json':
        return v === null || v === undefined ? null : JSON.stringify(v);
      case 'date':
        return v === null || v === undefined ? null : toIsoInstant(v as string);
      case 'credentials':
        return sealCredentials(this.box, id, (v ?? null) as Record<string, unknown> | null);
    }
  }

  private decode(c: Column<R>, v: unknown, id: string): unknown {
    if (v === null || v === undefined) return null;
    switch (c.kind) {
      case 'text':
        return v;
      case 'json':
        return this.dialect.jsonParsed ? v : JSON.parse(v as string);
      case 'date':
        // pg gives Dates; SQLite, ISO text; PostgreSQL rows read as JSON, text with an offset.
        return v instanceof Date ? v.toISOString() : typeof v === 'string' && !v.endsWith('Z') ? toIsoInstant(v) : v;
      case 'credentials':
        return openCredentials(this.box, id, v as string);
    }
  }
}
