// warren end to end with its state in PostgreSQL instead of SQLite: the same lifecycle, and the
// state (with encrypted credentials) survives a restart. Skipped when PostgreSQL does not answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { amqpConnect, bindBody, bindingPath, expectStatus, ids, instancePath, provisionBody, RabbitAdmin, safeClose, STANDARD_PLAN_ID, uid, within } from './helpers.ts';

const BASE_URL = process.env['WARREN_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/warren_test';

async function reachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: BASE_URL, connectionTimeoutMillis: 3000 });
  c.on('error', () => {});
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

const skip = (await reachable()) ? false : `PostgreSQL unreachable at ${new URL(BASE_URL).host}; run scripts/postgres-up.sh`;

describe('warren with the PostgreSQL store', { skip }, () => {
  const schema = `warren_e2e_${randomBytes(5).toString('hex')}`;
  const storeUrl = (() => {
    const u = new URL(BASE_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  })();
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-pg-'));
  const env = { WARREN_STORE_URL: storeUrl, WARREN_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  const rmq = new RabbitAdmin();
  let admin: pg.Client;
  let warren: WarrenProcess | undefined;
  let osb: OsbClient | undefined;
  const id = uid('pg');

  const start = async () => {
    warren = await startWarrenProcess({ env, dataDir });
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  };
  const stop = async () => {
    await osb?.close();
    osb = undefined;
    await warren?.stop({ keepData: true });
    warren = undefined;
  };

  before(async () => {
    admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await start();
  });
  after(async () => {
    await osb?.call('DELETE', `${instancePath(id)}?${ids(STANDARD_PLAN_ID)}`).catch(() => undefined);
    await stop();
    await rmq.purgePrefix(id);
    await rmq.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('provisions, binds, survives a restart, unbinds with the connection killed, deprovisions', async () => {
    expectStatus(await osb!.call('PUT', instancePath(id), { body: provisionBody(STANDARD_PLAN_ID) }), 201, 'provision');
    const bid = `${id}-b`;
    const bound = await osb!.call('PUT', bindingPath(id, bid), { body: bindBody(STANDARD_PLAN_ID) });
    expectStatus(bound, 201, 'bind');
    const rows = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.warren_bindings`);
    assert.equal(rows.rows[0].n, 1, 'the binding is stored in PostgreSQL');
    const raw = JSON.stringify((await admin.query(`SELECT * FROM ${schema}.warren_bindings`)).rows);
    assert.ok(!raw.includes(bound.body.credentials.password), 'credentials are encrypted at rest');

    await stop();
    await start();
    const again = await osb!.call('PUT', bindingPath(id, bid), { body: bindBody(STANDARD_PLAN_ID) });
    expectStatus(again, 200, 'repeat bind after restart');
    assert.deepEqual(again.body.credentials, bound.body.credentials);

    const conn = await amqpConnect(bound.body.credentials.uri);
    expectStatus(await osb!.call('DELETE', `${bindingPath(id, bid)}?${ids(STANDARD_PLAN_ID)}`), 200, 'unbind');
    assert.ok(await within(conn.closed, 3000), 'the app connection is closed by unbind');
    await safeClose(conn);
    expectStatus(await osb!.call('DELETE', `${instancePath(id)}?${ids(STANDARD_PLAN_ID)}`), 200, 'deprovision');
    const left = await admin.query(`SELECT (SELECT count(*) FROM ${schema}.warren_instances)::int AS i, (SELECT count(*) FROM ${schema}.warren_bindings)::int AS b`);
    assert.deepEqual(left.rows[0], { i: 0, b: 0 });
  });
});
