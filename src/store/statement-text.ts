// SQL text for the statements both stores share, generated once from the column lists, with the
// dialect's placeholders ('?' for SQLite, '$n::type' for PostgreSQL).

import type { Column, ColumnKind } from './columns.ts';

/** n counts from 1; 'flag' is the boolean of a CASE WHEN in updates. */
export type Placeholder = (n: number, kind: ColumnKind | 'flag') => string;

export const sqlitePlaceholder: Placeholder = () => '?';

/** PostgreSQL type of each column kind (and of a CASE WHEN flag), for casts and tables. */
export const PG_TYPES: Record<ColumnKind | 'flag', string> = {
  text: 'text',
  json: 'jsonb',
  date: 'timestamptz',
  credentials: 'text',
  flag: 'boolean',
};
export const postgresPlaceholder: Placeholder = (n, kind) => `$${n}::${PG_TYPES[kind]}`;

export const selectList = <R>(columns: readonly Column<R>[]): string => columns.map((c) => c.name).join(', ');

/** `ifAbsent`: do nothing when the id exists (the caller reads the affected row count). */
export function insertSql<R>(table: string, columns: readonly Column<R>[], ph: Placeholder, ifAbsent: boolean): string {
  const values = columns.map((c, i) => ph(i + 1, c.kind)).join(', ');
  return `INSERT INTO ${table} (${selectList(columns)}) VALUES (${values})${ifAbsent ? ' ON CONFLICT (id) DO NOTHING' : ''}`;
}

/** Matches TableCodec.updateParams: (flag, value) per patchable column, then updated_at, then id. */
export function updateSql<R>(table: string, patchColumns: readonly Column<R>[], ph: Placeholder): string {
  let n = 0;
  const sets = patchColumns.map((c) => {
    const flag = ph(++n, 'flag');
    const value = ph(++n, c.kind);
    return `${c.name} = CASE WHEN ${flag} THEN ${value} ELSE ${c.name} END`;
  });
  sets.push(`updated_at = ${ph(++n, 'date')}`);
  return `UPDATE ${table} SET ${sets.join(', ')} WHERE id = ${ph(++n, 'text')}`;
}
