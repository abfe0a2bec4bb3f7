// Fills a warren store before warren starts, through the Store interface warren itself uses:
// `instances` ready instances with `bindingsPerInstance` ready bindings each. No RabbitMQ object
// stands behind them: they are there to make the store big, not to be bound to.
import { performance } from 'node:perf_hooks';
import { createStore, type StoreConfig } from '../../src/store/create-store.ts';
import type { BindingRecord, InstanceRecord } from '../../src/store/store.ts';
import { DEFAULT_SERVICE_ID } from '../../testkit/osb-client.ts';

export interface SeedSpec {
  store: StoreConfig;
  /** The encryption key warren will be started with (WARREN_ENCRYPTION_KEY). */
  key: Buffer;
  planId: string;
  instances: number;
  bindingsPerInstance: number;
  /** Names start with it (the run's prefix). */
  prefix: string;
}

/** Seeds the store; returns the seconds it took. */
export async function seedStore(spec: SeedSpec): Promise<number> {
  const t0 = performance.now();
  const store = createStore(spec.store, spec.key);
  await store.open();
  try {
    const now = new Date().toISOString();
    // PostgreSQL: several inserts in flight hide the round trips; SQLite runs them in turn anyway.
    const width = spec.store.kind === 'postgres' ? 16 : 1;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < spec.instances; i = next++) await seedInstance(store, spec, i, now);
    };
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    await store.close();
  }
  return (performance.now() - t0) / 1000;
}

async function seedInstance(store: ReturnType<typeof createStore>, spec: SeedSpec, i: number, now: string): Promise<void> {
  const id = `${spec.prefix}seed-${i}`;
  const instance: InstanceRecord = {
    id, serviceId: DEFAULT_SERVICE_ID, planId: spec.planId, organizationGuid: 'bench-org', spaceGuid: 'bench-space',
    parameters: null, context: null, maintenanceInfoVersion: null, vhost: id, dashboardUrl: null,
    state: 'ready', createdAt: now, updatedAt: now,
  };
  if (!(await store.insertInstance(instance))) throw new Error(`seed instance ${id} exists already`);
  for (let j = 0; j < spec.bindingsPerInstance; j++) {
    const bid = `${id}-b${j}`;
    const binding: BindingRecord = {
      id: bid, instanceId: id, serviceId: DEFAULT_SERVICE_ID, planId: spec.planId, appGuid: null, bindResource: null,
      parameters: null, context: null, predecessorBindingId: null, username: bid,
      credentials: { username: bid, password: 'seeded-not-a-secret', vhost: id }, state: 'ready', createdAt: now, updatedAt: now,
    };
    if (!(await store.insertBinding(binding))) throw new Error(`seed binding ${bid} exists already`);
  }
}
