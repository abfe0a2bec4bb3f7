// Released migrations must create what they always created: their text is written from the column
// descriptions (src/store/migrations.ts), so a column added to columns.ts without its own
// migration number would otherwise change version 1 on new databases only. The hashes pin each
// released text (SQLite's as it was hand-written; SQLite also keeps CREATE TABLE text verbatim).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-schema.ts';

const RELEASED = {
  sqlite: { 1: '0b748575092c3aec', 2: '11bb6856dce764e7', 3: '31ad96bec8b478ae', 4: '15a5b6bfbf45aa1a' },
  postgres: { 1: '4c7c883f7bb69cfd', 2: '11bb6856dce764e7', 3: 'a59b94fc181aa27d', 4: '0ed2e3a2f1a5e87a', 5: 'a5e64314886f9c54', 6: '0352ba454e0f47d3', 7: 'bc600c86b6e5218c' },
} as const;

const hash = (sql: string): string => createHash('sha256').update(sql).digest('hex').slice(0, 16);

for (const [dialect, migrations] of [['sqlite', SQLITE_MIGRATIONS], ['postgres', POSTGRES_MIGRATIONS]] as const) {
  it(`${dialect}: released migrations keep their text, versions count up from 1`, () => {
    assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
    for (const [version, expected] of Object.entries(RELEASED[dialect])) {
      const m = migrations.find((x) => x.version === Number(version));
      assert.ok(m, `migration ${version} is missing`);
      assert.equal(hash(m.sql), expected, `${dialect} migration ${version} changed: append a new version instead`);
    }
  });
}
