// Reconcile with the PostgreSQL store: the deployment id is the store's (so every replica on it
// is one deployment), a hand-deleted binding user is reported and recreated with its stored
// password, beside the running server. Skipped, with the reason, when PostgreSQL does not answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { redactConnectionString } from '../../src/store/postgres-url.ts';
import { amqpConnect, bindBody, bindingPath, closeAllConnections, enc, expectStatus, instancePath, provisionBody, RabbitAdmin, roundTrip, safeClose, uid } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { runReconcile } from './helpers.ts';

const BASE_URL = process.env['WARREN_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/warren_test';

async function unreachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: BASE_URL, connectionTimeoutMillis: 3000 });
  c.on('error', () => {});
  try {
    await c.connect();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => {});
  }
}
const reason = await unreachable();

describe('warren reconcile on PostgreSQL', { skip: reason && `PostgreSQL unreachable at ${redactConnectionString(BASE_URL)} (${reason})` }, () => {
  const rmq = new RabbitAdmin();
  const prefix = `${uid('rcpg')}-`;
  const schema = `warren_rc_${randomBytes(5).toString('hex')}`;
  const url = (() => {
    const u = new URL(BASE_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  })();
  let warren: WarrenProcess | undefined;

  after(async () => {
    await closeAllConnections();
    await warren?.stop().catch(() => undefined);
    await rmq.purgePrefix(prefix);
    await rmq.close();
    const c = new pg.Client({ connectionString: BASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  it('reports and repairs a hand-deleted user beside the running server', async () => {
    const c = new pg.Client({ connectionString: BASE_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    const env = { WARREN_STORE_URL: url };
    warren = await startWarrenProcess({ env });
    const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
    const inst = `${prefix}i`;
    expectStatus(await osb.call('PUT', instancePath(inst), { body: provisionBody() }), 201);
    const bound = await osb.call('PUT', bindingPath(inst, `${prefix}b`), { body: bindBody() });
    expectStatus(bound, 201);
    const creds = bound.body.credentials as { uri: string; username: string };
    const tags = (await rmq.user(creds.username))?.tags as string[];
    const deployment = tags.find((t) => t.startsWith('warren-deployment:'))!.slice('warren-deployment:'.length);

    // The reconcile process has a data dir of its own: the deployment id comes from PostgreSQL.
    const clean = await runReconcile(['--json'], { ...env, WARREN_DATA_DIR: warren.dataDir });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(JSON.parse(clean.stdout).deployment_id, deployment);

    assert.equal((await rmq.call('DELETE', `users/${enc(creds.username)}`)).status, 204);
    const drift = await runReconcile([], { ...env, WARREN_DATA_DIR: warren.dataDir });
    assert.equal(drift.code, 1);
    assert.match(drift.stdout, new RegExp(`missing_user .*user ${creds.username} is missing`));
    const fixed = await runReconcile(['--fix'], { ...env, WARREN_DATA_DIR: warren.dataDir });
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    const live = await amqpConnect(creds.uri);
    await roundTrip(live.conn);
    await safeClose(live);
    await osb.close();
  });
});
