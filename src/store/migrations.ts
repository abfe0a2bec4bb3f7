// The schema migrations both dialects share (sqlite-schema.ts, postgres-schema.ts add their own),
// written from the column descriptions (columns.ts) in each dialect's types, so the tables, the
// statements and the record conversion follow one list of columns. Append new versions; never
// change what a released one creates.
//
// Each migration takes the columns whose `since` is its version: a column added later must not
// change what an earlier migration creates. SQLite keeps the text of each CREATE TABLE (and
// .schema shows it), so the layout below is that of the hand-written version 1, to the space.

import { BINDING_COLUMNS, INSTANCE_COLUMNS, OPERATION_COLUMNS, type Column, type ColumnKind } from './columns.ts';

export interface SchemaDialect {
  readonly types: Readonly<Record<ColumnKind, string>>;
  /** A 64-bit integer's type (warren_leases.epoch). */
  readonly integer: string;
  /** Columns a dialect gives warren_operations after id, whole definitions (PostgreSQL's seq). */
  readonly operationExtras: readonly ColumnDef[];
  /** warren_operations_by_resource's key, which can follow the dialect's ORDER BY. */
  readonly operationsByResource: string;
}

export interface ColumnDef {
  readonly name: string;
  /** Type and constraints. */
  readonly definition: string;
  /** A comment line put above the column. */
  readonly note?: string;
}

/** The id column is the primary key; `extras` adds a constraint or a note to a named column. */
function columnDefs<R>(
  columns: readonly Column<R>[],
  since: number,
  d: SchemaDialect,
  extras: Readonly<Record<string, { constraint: string; note: string }>> = {},
): ColumnDef[] {
  return columns
    .filter((c) => c.since === since)
    .map((c) => {
      const extra = extras[c.name];
      const key = c.name === 'id' ? ' PRIMARY KEY' : c.required ? ' NOT NULL' : '';
      const definition = `${d.types[c.kind]}${key}${extra ? ` ${extra.constraint}` : ''}`;
      return extra ? { name: c.name, definition, note: extra.note } : { name: c.name, definition };
    });
}

function createTable(table: string, defs: readonly ColumnDef[]): string {
  const width = Math.max(...defs.map((c) => c.name.length)) + 1;
  const lines = defs.map((c) => `${c.note ? `-- ${c.note}\n        ` : ''}${c.name.padEnd(width)}${c.definition}`);
  return `CREATE TABLE ${table} (\n        ${lines.join(',\n        ')}\n      );`;
}

function addColumns<R>(table: string, columns: readonly Column<R>[], since: number, d: SchemaDialect): string {
  return columnDefs(columns, since, d)
    .map((c) => `ALTER TABLE ${table} ADD COLUMN ${c.name} ${c.definition};`)
    .join('\n      ');
}

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export function sharedMigrations(d: SchemaDialect): Migration[] {
  return [
    { version: 1, sql: version1(d) },
    // pruneOperations deletes by updated_at: without an index it scans every row.
    { version: 2, sql: `CREATE INDEX warren_operations_by_update ON warren_operations (updated_at);` },
    // Durable operations (owner, lease, intent) for coordination and recovery, follow-ups such as
    // the unbind's late look, and named leases for once-per-deployment background jobs.
    { version: 3, sql: version3(d) },
    // Facts about the deployment itself, one row each (deployment_id: see meta.ts).
    { version: 4, sql: `CREATE TABLE warren_meta (key ${d.types.text} PRIMARY KEY, value ${d.types.text} NOT NULL);` },
  ];
}

function version1(d: SchemaDialect): string {
  const operations = columnDefs(OPERATION_COLUMNS, 1, d);
  operations.splice(1, 0, ...d.operationExtras);
  const bindingInstance = {
    constraint: 'REFERENCES warren_instances (id)',
    note: "No cascade: an instance's bindings must be removed (and their users deleted) first.",
  };
  return `
      ${createTable('warren_instances', columnDefs(INSTANCE_COLUMNS, 1, d))}
      ${createTable('warren_bindings', columnDefs(BINDING_COLUMNS, 1, d, { instance_id: bindingInstance }))}
      CREATE INDEX warren_bindings_by_instance ON warren_bindings (instance_id, created_at);
      -- Operations outlive their instance (last_operation after deprovision), so no foreign key.
      ${createTable('warren_operations', operations)}
      CREATE INDEX warren_operations_by_resource ON warren_operations (${d.operationsByResource});
    `;
}

function version3(d: SchemaDialect): string {
  return `
      ${addColumns('warren_operations', OPERATION_COLUMNS, 3, d)}
      CREATE INDEX warren_operations_active_by_instance ON warren_operations (instance_id) WHERE state = 'in progress';
      CREATE INDEX warren_operations_active_by_resource ON warren_operations (resource_id) WHERE state = 'in progress';
      CREATE INDEX warren_operations_followups ON warren_operations (followup_at) WHERE followup_at IS NOT NULL;
      CREATE TABLE warren_leases (
        name       ${d.types.text} PRIMARY KEY,
        holder     ${d.types.text} NOT NULL,
        epoch      ${d.integer} NOT NULL,
        expires_at ${d.types.date} NOT NULL
      );
    `;
}
