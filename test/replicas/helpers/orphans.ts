// Orphans either way, for everything named with a test's prefix: RabbitMQ objects no record
// accounts for (a vhost without its instance, a user without its binding: nothing a platform
// can do reaches them any more) and records whose RabbitMQ object is missing (a binding the
// platform believes in whose user is gone). Records left in a transient state are counted too:
// once the work is resolved, nothing may stay "being created" or "being deleted".
import assert from 'node:assert/strict';
import type { RabbitAdmin } from '../../broker/helpers.ts';
import { retrying } from './retrying.ts';
import type { TestDatabase } from './test-database.ts';

export interface OrphanReport {
  vhostsWithoutInstance: string[];
  usersWithoutBinding: string[];
  instancesWithoutVhost: string[];
  bindingsWithoutUser: string[];
  /** "instance <id> provisioning", "binding <id> deleting", "operation <kind> <id> in progress". */
  unsettled: string[];
  total: number;
}

export async function findOrphans(rmq: RabbitAdmin, db: TestDatabase, prefix: string): Promise<OrphanReport> {
  const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const instances = await db.query<{ id: string; vhost: string; state: string }>(
    'SELECT id, vhost, state FROM warren_instances WHERE id LIKE $1', [like],
  );
  const bindings = await db.query<{ id: string; username: string; state: string }>(
    'SELECT id, username, state FROM warren_bindings WHERE id LIKE $1', [like],
  );
  const operations = await db.query<{ id: string; kind: string; resource_id: string }>(
    "SELECT id, kind, resource_id FROM warren_operations WHERE state = 'in progress' AND instance_id LIKE $1", [like],
  );
  const vhosts = (await retrying(() => rmq.vhostNames())).filter((n) => n.startsWith(prefix));
  const users = await retrying(() => rmq.usersStartingWith(prefix));

  const recordedVhosts = new Set(instances.map((i) => i.vhost));
  const recordedUsers = new Set(bindings.map((b) => b.username));
  const liveVhosts = new Set(vhosts);
  const liveUsers = new Set(users);
  const report: OrphanReport = {
    vhostsWithoutInstance: vhosts.filter((v) => !recordedVhosts.has(v)),
    usersWithoutBinding: users.filter((u) => !recordedUsers.has(u)),
    instancesWithoutVhost: instances.filter((i) => !liveVhosts.has(i.vhost)).map((i) => `${i.id} (${i.state})`),
    bindingsWithoutUser: bindings.filter((b) => !liveUsers.has(b.username)).map((b) => `${b.id} (${b.state})`),
    unsettled: [
      ...instances.filter((i) => i.state !== 'ready').map((i) => `instance ${i.id} ${i.state}`),
      ...bindings.filter((b) => b.state !== 'ready').map((b) => `binding ${b.id} ${b.state}`),
      ...operations.map((o) => `operation ${o.kind} ${o.resource_id} in progress`),
    ],
    total: 0,
  };
  report.total = report.vhostsWithoutInstance.length + report.usersWithoutBinding.length
    + report.instancesWithoutVhost.length + report.bindingsWithoutUser.length + report.unsettled.length;
  return report;
}

export async function assertNoOrphans(rmq: RabbitAdmin, db: TestDatabase, prefix: string, what = ''): Promise<void> {
  const report = await findOrphans(rmq, db, prefix);
  assert.equal(report.total, 0, `${what} orphans: ${JSON.stringify(report, null, 1)}`);
}

/**
 * Polls until no orphan and nothing unsettled remains (work a dead replica left is finished by
 * a live one once its lease expires), or the time is up; returns the last report.
 */
export async function waitForNoOrphans(rmq: RabbitAdmin, db: TestDatabase, prefix: string, withinMs: number): Promise<{ report: OrphanReport; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const report = await findOrphans(rmq, db, prefix);
    if (report.total === 0 || Date.now() - t0 > withinMs) return { report, ms: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 500));
  }
}
