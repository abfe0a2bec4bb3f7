// What must hold after every chaos scenario, read from both sides: the store (warren's SQLite
// file, read-only beside the running process) and RabbitMQ (its management API, directly,
// never through warren or the fault proxy).
//   - every operation resolved: no operation 'in progress', no instance or binding left in a
//     transitional state, no follow-up still armed;
//   - 0 RabbitMQ objects without a record: every vhost and user of the scenario belongs to a
//     ready instance or binding;
//   - 0 records without their RabbitMQ objects.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Agent } from 'undici';
import { SQLITE_FILE_NAME } from '../../../src/store/sqlite-store.ts';
import { managementCall } from '../../../testkit/json-answer.ts';
import { listedNames } from '../../../testkit/listed-names.ts';

const AUTH = 'Basic ' + Buffer.from('guest:guest').toString('base64');

/** RabbitMQ's management API read directly (never through warren or a proxy). */
export class RabbitView {
  private readonly agent = new Agent({ connections: 4, keepAliveTimeout: 2000 });
  constructor(readonly base: string) {}

  /** A list can answer a transient 500 on a loaded 3.10 node (measured): asked again, briefly. */
  async get(path: string): Promise<any> {
    let r = await managementCall(this.agent, this.base, AUTH, 'GET', path);
    for (let i = 0; i < 5 && r.status >= 500; i++) {
      await new Promise((done) => setTimeout(done, 200 * (i + 1)));
      r = await managementCall(this.agent, this.base, AUTH, 'GET', path);
    }
    assert.equal(r.status, 200, `GET /api/${path}: ${r.status} ${r.text}`);
    return r.body;
  }

  async delete(path: string): Promise<number> {
    return (await managementCall(this.agent, this.base, AUTH, 'DELETE', path)).status;
  }

  async vhosts(prefix: string): Promise<string[]> {
    return listedNames(await this.get('vhosts?columns=name'), prefix);
  }

  async users(prefix: string): Promise<string[]> {
    return listedNames(await this.get('users?columns=name'), prefix);
  }

  /** Removes what a failed run may have left (only names with the scenario's prefix). */
  async purge(prefix: string): Promise<void> {
    for (const u of await this.users(prefix)) await this.delete(`users/${encodeURIComponent(u)}`);
    for (const v of await this.vhosts(prefix)) await this.delete(`vhosts/${encodeURIComponent(v)}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export interface StoreView {
  instances: Array<{ id: string; vhost: string; state: string }>;
  bindings: Array<{ id: string; instance_id: string; username: string; state: string }>;
  inProgress: Array<{ id: string; kind: string; resource_id: string }>;
  armedFollowups: number;
}

export function readStore(dataDir: string, prefix: string): StoreView {
  const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true, fileMustExist: true });
  try {
    const like = `${prefix}%`;
    return {
      instances: db.prepare('SELECT id, vhost, state FROM warren_instances WHERE id LIKE ?').all(like) as StoreView['instances'],
      bindings: db.prepare('SELECT id, instance_id, username, state FROM warren_bindings WHERE instance_id LIKE ?').all(like) as StoreView['bindings'],
      inProgress: db.prepare(`SELECT id, kind, resource_id FROM warren_operations WHERE state = 'in progress' AND instance_id LIKE ?`).all(like) as StoreView['inProgress'],
      armedFollowups: (db.prepare('SELECT count(*) AS n FROM warren_operations WHERE followup_at IS NOT NULL AND instance_id LIKE ?').get(like) as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

export interface Consistency {
  vhosts: number;
  users: number;
  orphanVhosts: string[];
  orphanUsers: string[];
  missingVhosts: string[];
  missingUsers: string[];
  unresolved: string[];
}

export async function compare(dataDir: string, rabbit: RabbitView, prefix: string): Promise<Consistency> {
  const s = readStore(dataDir, prefix);
  const vhosts = new Set(await rabbit.vhosts(prefix));
  const users = new Set(await rabbit.users(prefix));
  const readyVhosts = new Set(s.instances.filter((i) => i.state === 'ready').map((i) => i.vhost));
  const readyUsers = new Set(s.bindings.filter((b) => b.state === 'ready').map((b) => b.username));
  const unresolved = [
    ...s.inProgress.map((o) => `operation ${o.kind} of ${o.resource_id} still in progress`),
    ...s.instances.filter((i) => i.state !== 'ready').map((i) => `instance ${i.id} left ${i.state}`),
    ...s.bindings.filter((b) => b.state !== 'ready').map((b) => `binding ${b.id} left ${b.state}`),
    ...(s.armedFollowups > 0 ? [`${s.armedFollowups} follow-up look(s) still armed`] : []),
  ];
  return {
    vhosts: vhosts.size,
    users: users.size,
    orphanVhosts: [...vhosts].filter((v) => !readyVhosts.has(v)),
    orphanUsers: [...users].filter((u) => !readyUsers.has(u)),
    missingVhosts: [...readyVhosts].filter((v) => !vhosts.has(v)),
    missingUsers: [...readyUsers].filter((u) => !users.has(u)),
    unresolved,
  };
}

/**
 * Waits (bounded) for the background work to settle (recovery, follow-up looks), then asserts
 * the store and RabbitMQ agree.
 */
export async function assertConsistent(dataDir: string, rabbit: RabbitView, prefix: string, settleMs = 20_000): Promise<Consistency> {
  const end = Date.now() + settleMs;
  let c = await compare(dataDir, rabbit, prefix);
  while (Date.now() < end && (c.unresolved.length || c.orphanUsers.length || c.orphanVhosts.length || c.missingUsers.length || c.missingVhosts.length)) {
    await sleep(500);
    c = await compare(dataDir, rabbit, prefix);
  }
  assert.deepEqual(c.unresolved, [], 'every operation resolves');
  assert.deepEqual(c.orphanVhosts, [], '0 vhosts without a record');
  assert.deepEqual(c.orphanUsers, [], '0 users without a record');
  assert.deepEqual(c.missingVhosts, [], '0 instance records without their vhost');
  assert.deepEqual(c.missingUsers, [], '0 binding records without their user');
  return c;
}
