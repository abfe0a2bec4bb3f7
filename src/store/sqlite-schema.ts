// SQLite schema, as numbered migrations (migrations.ts). Append new versions; never edit a released one.
// Dates are UTC ISO 8601 text (sortable as text); JSON is text; credentials are sealed text.

import { sharedMigrations, type Migration } from './migrations.ts';

export const SQLITE_MIGRATIONS: readonly Migration[] = sharedMigrations({
  types: { text: 'TEXT', json: 'TEXT', date: 'TEXT', credentials: 'TEXT' },
  integer: 'INTEGER',
  operationExtras: [],
  operationsByResource: 'resource_type, resource_id, created_at',
});
