// What warren's own steps of a bind/unbind cost in isolation, in µs per call, using warren's
// modules as they are (nothing in src/ is changed): the SQLite store calls, credential sealing,
// the credentials document, random names, the basic-auth check, and SQLite writes one
// transaction each (as the store does them) vs grouped per operation (a proposed fix).
//   node --import tsx bench/micro-costs.ts [--n 3000]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { bindingCredentials } from '../src/broker/binding-credentials.ts';
import { newOperationId, newPassword, newUsername } from '../src/broker/generated-secrets.ts';
import { basicAuthChecker } from '../src/osbapi/basic-auth.ts';
import { SecretBox } from '../src/store/secret-box.ts';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import type { BindingRecord, InstanceRecord } from '../src/store/store.ts';

const argN = process.argv.indexOf('--n');
const N = argN >= 0 ? Number(process.argv[argN + 1]) : 3000;
const PRUNE_ROWS = 300_000;
const rows: Array<[string, number]> = [];

async function time(label: string, n: number, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i); // warm-up (JIT)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const us = ((performance.now() - t0) * 1000) / n;
  rows.push([label, us]);
}

const dir = mkdtempSync(join(tmpdir(), 'warren-bench-micro-'));
try {
  const key = randomBytes(32);
  const store = new SqliteStore({ dataDir: join(dir, 'store'), key });
  await store.open();
  const at = new Date().toISOString();
  const instance: InstanceRecord = {
    id: 'inst', serviceId: 's', planId: 'p', organizationGuid: 'o', spaceGuid: 's', parameters: null, context: null,
    maintenanceInfoVersion: '1.0.0', vhost: 'inst', dashboardUrl: null, state: 'ready', createdAt: at, updatedAt: at,
  };
  await store.insertInstance(instance);
  const creds = bindingCredentials({
    username: newUsername('b'), password: newPassword(), vhost: 'inst', hosts: ['127.0.0.1'],
    managementUrls: ['http://127.0.0.1:15672'], ports: { amqp: 5672, management: 15672 }, preferTls: true,
  });
  const binding = (id: string): BindingRecord => ({
    id, instanceId: 'inst', serviceId: 's', planId: 'p', appGuid: null, bindResource: null, parameters: null, context: null,
    predecessorBindingId: null, username: `${id}-x`, credentials: null, state: 'creating', createdAt: at, updatedAt: at,
  });
  const total = N + 200;
  const ids = Array.from({ length: total }, (_, i) => `b${i}`);
  await time('store.getInstance', N, () => store.getInstance('inst'));
  await time('store.getBinding (absent)', N, (i) => store.getBinding(`none${i}`));
  await time('store.insertBinding', N, (i) => store.insertBinding(binding(ids[i]!)));
  await time('store.updateBinding (ready + sealed credentials)', N, (i) => store.updateBinding(ids[i]!, { state: 'ready', credentials: creds, updatedAt: at }));
  await time('store.insertOperation', N, (i) => store.insertOperation({
    id: newOperationId(), resourceType: 'binding', resourceId: ids[i]!, instanceId: 'inst', kind: 'bind', state: 'succeeded', description: null,
    owner: null, leaseUntil: null, intent: null, followupAt: null, createdAt: at, updatedAt: at,
  }));
  await time('store.getBinding (with credentials: decrypt + JSON.parse)', N, (i) => store.getBinding(ids[i]!));
  await time('store.deleteBinding', N, (i) => store.deleteBinding(ids[i]!));

  // warren_operations gets a row per bind/unbind and keeps it operation_retention_hours (72 h);
  // the prune runs every 10 min on the event loop, and nothing indexes updated_at.
  const side = new Database(store.path);
  const fill = side.prepare(`INSERT INTO warren_operations VALUES (?, 'binding', ?, 'inst', 'bind', 'succeeded', NULL, ?, ?)`);
  const old = new Date(Date.now() - 100 * 3_600_000).toISOString();
  side.transaction(() => {
    for (let i = 0; i < PRUNE_ROWS; i++) fill.run(`op${i}`, `b${i}`, i % 2 ? old : at, i % 2 ? old : at);
  })();
  side.close();
  let t0 = performance.now();
  await store.pruneOperations(new Date(Date.now() - 200 * 3_600_000).toISOString());
  rows.push([`store.pruneOperations, nothing to delete, ${PRUNE_ROWS} rows (one event-loop stall)`, (performance.now() - t0) * 1000]);
  t0 = performance.now();
  const pruned = await store.pruneOperations(new Date(Date.now() - 72 * 3_600_000).toISOString());
  rows.push([`store.pruneOperations deleting ${pruned} of ${PRUNE_ROWS} rows (one event-loop stall)`, (performance.now() - t0) * 1000]);
  await store.close();

  const box = new SecretBox(key);
  const json = JSON.stringify(creds);
  const sealed = box.seal(json, 'aad');
  await time('SecretBox.seal (credentials, AES-256-GCM)', N, () => box.seal(json, 'aad'));
  await time('SecretBox.open', N, () => box.open(sealed, 'aad'));
  await time('bindingCredentials() (the credentials document)', N, () => bindingCredentials({
    username: 'b-abcdefgh', password: 'p', vhost: 'inst', hosts: ['127.0.0.1'],
    managementUrls: ['http://127.0.0.1:15672'], ports: { amqp: 5672, management: 15672 }, preferTls: true,
  }));
  await time('JSON.stringify(credentials)', N, () => JSON.stringify(creds));
  await time('newPassword + newUsername + newOperationId (3 x randomBytes)', N, () => [newPassword(), newUsername('b'), newOperationId()]);
  const check = basicAuthChecker({ username: 'warren', password: 'secret' });
  const header = 'Basic ' + Buffer.from('warren:secret').toString('base64');
  await time('basicAuthChecker (2 x sha256 + timingSafeEqual)', N, () => check(header));
  await time('new Date().toISOString()', N, () => new Date().toISOString());

  // SQLite writes of one bind + one unbind as the store does them (5 autocommit statements)
  // vs one transaction per operation, same pragmas and schema as warren's SQLite store.
  const open = (file: string) => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    for (const m of SQLITE_MIGRATIONS) db.exec(m.sql);
    db.prepare(`INSERT INTO warren_instances VALUES ('inst','s','p','o','s',NULL,NULL,NULL,'inst',NULL,'ready',?,?)`).run(at, at);
    return db;
  };
  for (const grouped of [false, true]) {
    const db = open(join(dir, grouped ? 'grouped.db' : 'autocommit.db'));
    const ins = db.prepare(`INSERT INTO warren_bindings (id, instance_id, service_id, plan_id, username, state, created_at, updated_at) VALUES (?, 'inst', 's', 'p', ?, 'creating', ?, ?)`);
    const upd = db.prepare(`UPDATE warren_bindings SET state = 'ready', credentials = ?, updated_at = ? WHERE id = ?`);
    const op = db.prepare(`INSERT INTO warren_operations VALUES (?, 'binding', ?, 'inst', ?, 'succeeded', NULL, ?, ?)`);
    const del = db.prepare(`DELETE FROM warren_bindings WHERE id = ?`);
    const bind = (id: string) => {
      ins.run(id, `${id}-x`, at, at);
      upd.run(sealed, at, id);
      op.run(newOperationId(), id, 'bind', at, at);
    };
    const unbind = (id: string) => {
      del.run(id);
      op.run(newOperationId(), id, 'unbind', at, at);
    };
    const tb = db.transaction(bind);
    const tu = db.transaction(unbind);
    await time(`SQLite writes of bind+unbind: ${grouped ? '2 transactions (one per operation)' : '5 autocommit statements (as now)'}`, N, (i) => {
      const id = `g${i}`;
      if (grouped) {
        tb(id);
        tu(id);
      } else {
        bind(id);
        unbind(id);
      }
    });
    db.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`µs per call (n=${N}, after a warm-up; one core, same machine as RabbitMQ)\n`);
for (const [label, us] of rows) process.stdout.write(`${label.padEnd(width)}  ${us.toFixed(1).padStart(8)}\n`);
