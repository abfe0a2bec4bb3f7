// A PostgreSQL database of the test file's own (warren_replicas_<random>) on the machine's
// server, dropped after, plus the check that the server answers at all.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const BASE_URL = process.env['WARREN_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/warren_test';

/** The base URL pointed at another database on the same server. */
export function urlOfDatabase(name: string, base = BASE_URL): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Why PostgreSQL on 5432 cannot be used (a skip reason), or false when it answers. */
export async function postgresSkipReason(): Promise<string | false> {
  const c = new pg.Client({ connectionString: BASE_URL, connectionTimeoutMillis: 3000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return false;
  } catch (err) {
    return `PostgreSQL unreachable at ${new URL(BASE_URL).host} (${(err as Error).message}); run scripts/postgres-up.sh`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** One query on a connection of its own (the server may have restarted since the last one). */
  query<R extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** Creates a fresh database on the server of `base` (default WARREN_TEST_PG_URL). */
export async function createTestDatabase(base = BASE_URL): Promise<TestDatabase> {
  const name = `warren_replicas_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = urlOfDatabase(name, base);
  return {
    name,
    url,
    async query(sql, params) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      await c.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async drop() {
      const a = new pg.Client({ connectionString: base, connectionTimeoutMillis: 5000 });
      a.on('error', () => undefined);
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end().catch(() => undefined);
      }
    },
  };
}
