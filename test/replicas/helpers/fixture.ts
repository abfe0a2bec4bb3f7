// What every replicas test file starts from: a database of its own, N replicas on it behind the
// round-robin load balancer, the real RabbitMQ's management API, and one name prefix for every
// instance and binding the file creates, so its orphan checks and its cleanup see only its own.
import { MGMT_URL, RabbitAdmin, uid } from '../../broker/helpers.ts';
import { ReplicaSet } from './replica-set.ts';
import { retrying } from './retrying.ts';
import { RoundRobinProxy } from './round-robin-proxy.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

/** Rounds per race scenario: WARREN_REPLICA_ROUNDS, the 100 by default. */
export const ROUNDS = Math.max(1, Number(process.env['WARREN_REPLICA_ROUNDS'] ?? 100));

export interface ReplicaFixture {
  db: TestDatabase;
  set: ReplicaSet;
  rmq: RabbitAdmin;
  prefix: string;
  id(tag: string): string;
  /** The relay between the replicas and RabbitMQ's management API, when asked for (stall() it). */
  rabbitRelay?: RoundRobinProxy;
  close(): Promise<void>;
}

export async function startReplicaFixture(
  tag: string,
  opts: {
    count?: number;
    env?: Record<string, string>;
    db?: TestDatabase;
    /** Replicas reach RabbitMQ's management API through a relay adding this much per answer (0: a relay without delay). */
    rabbitLatencyMs?: number;
  } = {},
): Promise<ReplicaFixture> {
  const db = opts.db ?? (await createTestDatabase());
  const env = { ...opts.env };
  let slow: RoundRobinProxy | undefined;
  if (opts.rabbitLatencyMs !== undefined) {
    slow = new RoundRobinProxy({ latencyMs: opts.rabbitLatencyMs });
    const relay = new URL(await slow.start());
    slow.add(MGMT_URL);
    const admin = process.env['RABBITMQ_ADMIN'] ?? 'guest:guest';
    env['WARREN_MANAGEMENT_URLS'] = `http://${admin}@${relay.host}`;
  }
  const set = new ReplicaSet({ storeUrl: db.url, count: opts.count ?? 3, env });
  const rmq = new RabbitAdmin();
  const prefix = `${uid(tag)}-`;
  try {
    await set.start();
  } catch (err) {
    await set.close().catch(() => undefined);
    await slow?.close();
    await rmq.close();
    if (!opts.db) await db.drop().catch(() => undefined);
    throw err;
  }
  return {
    db,
    set,
    rmq,
    prefix,
    id: (t) => `${prefix}${t}`,
    rabbitRelay: slow,
    async close() {
      try {
        await set.close();
        await slow?.close();
        await retrying(() => rmq.purgePrefix(prefix));
      } finally {
        await rmq.close();
        if (!opts.db) await db.drop();
      }
    },
  };
}
