// What the store alone costs per bind+unbind cycle, step by step, with no RabbitMQ and no HTTP:
// the store calls warren makes for one cycle (begin, finish, and the late look's follow-up
// cleared in batches, as the background job does), against the four binding writes of a broker
// without operation rows (e192fde: insert, ready, deleting, delete). On PostgreSQL it measures
// the server: one pooled connection, whose backend's CPU is read from /proc/<pid>/schedstat (ns,
// unlike stat's 10 ms ticks); on SQLite, which runs in this process, the time each call takes.
//
//   node --import tsx bench/store-cycle-cost.ts [--postgres URL] [--cycles N] [--plain]
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { BindingRecord, Store } from '../src/store/store.ts';
import { PostgresStore } from '../src/store/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import { createBenchDatabase } from './lib/bench-databases.ts';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const postgres = arg('--postgres');
const cycles = Number(arg('--cycles') ?? 4000);
const plain = argv.includes('--plain');
const WARM_CYCLES = 200; // statements prepared, plans settled
const FOLLOWUP_BATCH = 16;

/** The clock that counts: the PostgreSQL backend's CPU, or this process's time for SQLite. */
type Clock = () => number;

async function openStore(): Promise<{ store: Store; clock: () => Promise<Clock>; cleanup: () => Promise<void> }> {
  if (!postgres) {
    const dir = mkdtempSync(join(tmpdir(), 'warren-store-cost-'));
    const store = new SqliteStore({ dataDir: dir, key: randomBytes(32) });
    await store.open();
    const hr: Clock = () => Number(process.hrtime.bigint());
    return { store, clock: async () => hr, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const db = await createBenchDatabase(postgres, `warren_store_cost_${process.pid}`);
  const store = new PostgresStore({ url: db.url, key: randomBytes(32), maxConnections: 1 });
  await store.open().catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  const clock = async (): Promise<Clock> => {
    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    try {
      const r = await probe.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'warren'`);
      const pid = Number(r.rows[0]?.pid);
      if (!pid) throw new Error("cannot find the store's backend");
      return () => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    } finally {
      await probe.end();
    }
  };
  return { store, clock, cleanup: async () => { await store.close(); await db.drop(); } };
}

const { store, clock: findClock, cleanup } = await openStore();
const at = () => new Date().toISOString();
const instanceId = randomUUID();

let clock: Clock | undefined;
const spent = new Map<string, number>();
async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t = clock?.();
  const r = await f();
  if (clock && t !== undefined) spent.set(name, (spent.get(name) ?? 0) + clock() - t);
  return r;
}

const owner = 'bench';
const look = { leaseMs: 10_000, supersededLookMs: 30_000 };
async function cycle(i: number): Promise<void> {
  const bindingId = randomUUID();
  const username = `${bindingId}-bench`;
  const credentials = { username, password: 'secret', uri: 'amqp://bench' };
  const row: BindingRecord = {
    id: bindingId, instanceId, serviceId: 'bench-service', planId: 'bench-plan', appGuid: null, bindResource: null, parameters: null,
    context: null, predecessorBindingId: null, username, credentials: { password: 'secret' }, state: 'creating', createdAt: at(), updatedAt: at(),
  };
  if (plain) {
    await step('insert binding', () => store.insertBinding(row));
    await step('set ready', () => store.updateBinding(bindingId, { state: 'ready', credentials, updatedAt: at() }));
    await step('set deleting', () => store.updateBinding(bindingId, { state: 'deleting', updatedAt: at() }));
    await step('delete binding', () => store.deleteBinding(bindingId));
    return;
  }
  const bind = randomUUID();
  const begun = await step('begin bind', () => store.beginOperation({
    id: bind, resourceType: 'binding', resourceId: bindingId, instanceId, kind: 'bind', owner, intent: { username }, withCredentials: true,
    insertBinding: row, ...look,
  }));
  if (!begun.started) throw new Error('the bind did not start');
  await step('finish bind', () => store.finishOperation(bind, owner, { state: 'succeeded', description: null, effect: { bindingId, state: 'ready', credentials } }));
  const unbind = randomUUID();
  await step('begin unbind', () => store.beginOperation({
    id: unbind, resourceType: 'binding', resourceId: bindingId, instanceId, kind: 'unbind', owner, intent: null, bindingState: 'deleting', ...look,
  }));
  await step('finish unbind', () => store.finishOperation(unbind, owner, {
    state: 'succeeded', description: null, followupAt: at(), intent: { username }, effect: { bindingId, remove: true },
  }));
  if (i % FOLLOWUP_BATCH === FOLLOWUP_BATCH - 1) {
    const due = await step('due follow-ups', () => store.listDueFollowups(4 * FOLLOWUP_BATCH));
    await step('clear follow-ups', () => store.clearFollowups(due.map((o) => o.id)));
  }
}

try {
  await store.insertInstance({
    id: instanceId, serviceId: 'bench-service', planId: 'bench-plan', organizationGuid: 'org', spaceGuid: 'space', parameters: null, context: null,
    maintenanceInfoVersion: null, vhost: 'bench', dashboardUrl: null, state: 'ready', createdAt: at(), updatedAt: at(),
  });
  for (let i = 0; i < WARM_CYCLES; i++) await cycle(i);
  clock = await findClock();
  for (let i = 0; i < cycles; i++) await cycle(i);
  const total = [...spent.values()].reduce((a, b) => a + b, 0);
  const what = postgres ? 'PostgreSQL backend CPU' : 'SQLite, time in the store calls';
  console.log(`${plain ? 'plain binding writes' : "warren's store calls"}, ${cycles} cycles: ${what} ${(total / 1e6 / cycles).toFixed(3)} ms/cycle`);
  for (const [name, ns] of spent) console.log(`  ${name.padEnd(18)} ${(ns / 1e6 / cycles).toFixed(3)} ms/cycle`);
} finally {
  await cleanup();
}
