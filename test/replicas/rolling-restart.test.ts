// A rolling restart under load, as a platform does an upgrade: each of three replicas in turn
// gets SIGTERM (it drains: answers what is in flight, says `Connection: close`, closes idle
// keep-alive sockets) and a new one takes its place, while a platform keeps provisioning,
// binding, reading, unbinding and deprovisioning through the load balancer. The client retries
// only connection-level failures, as a load balancer would; it must see zero errors. Each
// stopped replica exits 0 within its drain bound; afterwards 0 orphans and 0 leaked sockets.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { bindBody, bindingPath, ids, instancePath, provisionBody, SMALL_PLAN_ID } from '../broker/helpers.ts';
import type { OsbAnswer } from '../../testkit/osb-client.ts';
import { startReplicaFixture, type ReplicaFixture } from './helpers/fixture.ts';
import { REPLICA_ENV } from './helpers/lease-timing.ts';
import { waitForNoOrphans } from './helpers/orphans.ts';
import { histogram } from './helpers/replica-set.ts';
import { postgresSkipReason } from './helpers/test-database.ts';

const skip = await postgresSkipReason();
const WORKERS = 4;
/** How long a SIGTERM'd replica may take to drain and exit. */
const DRAIN_BOUND_MS = 35_000;
const q = ids(SMALL_PLAN_ID);
/** Failures where the request got no answer at all: what a load balancer retries elsewhere. */
const CONNECTION_LEVEL = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

describe('replicas: rolling restart under load', { skip }, () => {
  let f: ReplicaFixture;
  before(async () => {
    // RabbitMQ answers slowly, so every SIGTERM meets requests in flight.
    f = await startReplicaFixture('rroll', { env: REPLICA_ENV, rabbitLatencyMs: 60 });
  });
  after(async () => {
    await f?.close();
  });

  it('SIGTERM and replace each replica in turn: zero errors seen by the client, clean exits, 0 orphans', { timeout: 300_000 }, async () => {
    const client = f.set.client(f.set.url, WORKERS);
    const retries: string[] = [];
    const errors: string[] = [];
    const answers: string[] = [];
    /** One request through the load balancer; connection-level failures are retried (at most 5 times). */
    const call = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ answer: OsbAnswer; retried: boolean }> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const answer = await client.call(method, path, body === undefined ? {} : { body });
          answers.push(String(answer.status));
          return { answer, retried: attempt > 0 };
        } catch (err) {
          const code = (err as { code?: string }).code ?? (err as Error).name;
          if (!CONNECTION_LEVEL.has(code) || attempt >= 5) throw err;
          retries.push(`${method} ${code}`);
        }
      }
    };
    /** The status a request must get (a repeat after a lost connection may find its work done). */
    const expect = async (what: string, method: 'GET' | 'PUT' | 'DELETE', path: string, status: number, body?: unknown, afterRetry?: number): Promise<OsbAnswer | undefined> => {
      try {
        const { answer, retried } = await call(method, path, body);
        if (answer.status === status || (retried && answer.status === afterRetry)) return answer;
        errors.push(`${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
      } catch (err) {
        errors.push(`${what}: ${(err as Error & { code?: string }).code ?? ''} ${(err as Error).message}`);
      }
      return undefined;
    };

    let stop = false;
    let cycles = 0;
    let seq = 0;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const inst = f.id(`l${seq++}`);
        const bid = `${inst}-b`;
        if (!(await expect('provision', 'PUT', instancePath(inst), 201, provisionBody(SMALL_PLAN_ID), 200))) continue;
        const bound = await expect('bind', 'PUT', bindingPath(inst, bid), 201, bindBody(SMALL_PLAN_ID), 200);
        if (bound) {
          await expect('fetch binding', 'GET', bindingPath(inst, bid), 200);
          await expect('unbind', 'DELETE', `${bindingPath(inst, bid)}?${q}`, 200, undefined, 410);
        }
        await expect('deprovision', 'DELETE', `${instancePath(inst)}?${q}`, 200, undefined, 410);
        cycles++;
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));

    const drains: string[] = [];
    try {
      await sleep(1500);
      for (const old of [...f.set.replicas]) {
        const before = cycles;
        const { code, ms } = await f.set.stopReplica(old);
        drains.push(`${old.name}: exit ${code} after ${ms} ms`);
        assert.equal(code, 0, `${old.name} exits 0 after SIGTERM (drained): ${old.proc.logs.slice(-5).join('\n')}`);
        assert.ok(ms < DRAIN_BOUND_MS, `${old.name} drained in ${ms} ms`);
        await f.set.addReplica();
        await sleep(1500);
        assert.ok(cycles > before, `the load kept going while ${old.name} was replaced`);
      }
    } finally {
      stop = true;
      await load;
    }
    console.log(`rolling restart: ${cycles} cycles, answers ${JSON.stringify(histogram(answers))}, connection-level retries ${JSON.stringify(histogram(retries))}; ${drains.join('; ')}`);
    assert.deepEqual(errors, [], `errors seen by the client (${errors.length})`);
    await client.close();
    const { report } = await waitForNoOrphans(f.rmq, f.db, f.prefix, 10_000);
    assert.equal(report.total, 0, JSON.stringify(report, null, 1));
    await f.set.assertNoLeaks();
  });
});
