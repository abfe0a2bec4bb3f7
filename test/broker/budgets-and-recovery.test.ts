// What a platform sees when RabbitMQ stops answering, and what happens to work a killed warren
// left behind: every answer within the request budget, 202 + last_operation with
// accepts_incomplete, a dead process's half-done provision rolled back by the next one, and a
// second server on the same SQLite data dir refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { FaultProxy } from '../rabbitmq/helpers/fault-proxy.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { DEFAULT_SERVICE_ID, RabbitAdmin, SMALL_PLAN_ID, enc, uid } from './helpers.ts';
import { until } from '../support/until.ts';

const BUDGET_MS = 3_000;
const admin = new RabbitAdmin();

function configFile(dir: string): string {
  const file = join(dir, 'warren.yml');
  writeFileSync(file, `operations:\n  request_budget_ms: ${BUDGET_MS}\n  lease_ms: 2000\n  recovery_interval_ms: 300\n  busy_wait_ms: 500\n`);
  return file;
}

const provisionBody = { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID, organization_guid: 'org', space_guid: 'space' };

async function startBehind(proxy: FaultProxy, dataDir: string): Promise<{ warren: WarrenProcess; osb: OsbClient }> {
  const warren = await startWarrenProcess({
    dataDir,
    env: { WARREN_CONFIG: configFile(dataDir), WARREN_MANAGEMENT_URLS: `http://guest:guest@127.0.0.1:${proxy.port}` },
  });
  return { warren, osb: new OsbClient({ url: warren.url, username: warren.username, password: warren.password }) };
}

const deprovisionPath = (id: string): string => `/v2/service_instances/${id}?service_id=${DEFAULT_SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`;

/** Ends what a test started behind the proxy, and removes its vhost whatever the test left. */
async function cleanUp(parts: { osb: OsbClient; warren: WarrenProcess; proxy: FaultProxy; vhost: string }): Promise<void> {
  await parts.osb.close();
  await parts.warren.stop();
  await parts.proxy.close();
  await admin.call('DELETE', `vhosts/${enc(parts.vhost)}`);
}

describe('budgets, asynchronous answers and recovery', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'warren-budget-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('with RabbitMQ stalled, a provision answers 503 within its budget, and a repeat after recovery creates it once', async () => {
    const proxy = await FaultProxy.start(15672);
    const { warren, osb } = await startBehind(proxy, newDir());
    const id = uid('budget');
    try {
      proxy.setMode('hang');
      const t0 = Date.now();
      const res = await osb.call('PUT', `/v2/service_instances/${id}`, { body: provisionBody });
      const took = Date.now() - t0;
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error, 'ServiceUnavailable');
      assert.ok(took < BUDGET_MS + 1_500, `answered after ${took} ms, budget ${BUDGET_MS} ms`);
      proxy.setMode('forward');
      // The platform retries (or mitigates the orphan); either way it converges to one instance.
      const again = await until('the provision to go through', 30_000, async () => {
        const r = await osb.call('PUT', `/v2/service_instances/${id}`, { body: provisionBody });
        return r.status === 201 || r.status === 200 ? r : undefined;
      });
      assert.ok([200, 201].includes(again.status));
      const vh = await admin.call('GET', `vhosts/${enc(id)}`);
      assert.equal(vh.status, 200);
      assert.equal((await osb.call('DELETE', deprovisionPath(id))).status, 200);
    } finally {
      await cleanUp({ osb, warren, proxy, vhost: id });
    }
  });

  it('with accepts_incomplete=true and RabbitMQ stalled: 202 with an operation, polled to succeeded once RabbitMQ answers', async () => {
    const proxy = await FaultProxy.start(15672);
    const { warren, osb } = await startBehind(proxy, newDir());
    const id = uid('async');
    try {
      proxy.setMode('hang');
      const t0 = Date.now();
      const res = await osb.call('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, { body: provisionBody });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.ok(Date.now() - t0 < BUDGET_MS + 1_000);
      const operation = res.body.operation as string;
      assert.ok(operation);
      const poll = await osb.call('GET', `/v2/service_instances/${id}/last_operation?operation=${enc(operation)}`);
      assert.equal(poll.status, 200);
      assert.equal(poll.body.state, 'in progress');
      assert.ok(Number(poll.headers['retry-after']) > 0, 'Retry-After while in progress');
      // A repeat while it runs answers 202 with the same operation.
      const repeat = await osb.call('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, { body: provisionBody });
      assert.equal(repeat.status, 202);
      assert.equal(repeat.body.operation, operation);
      proxy.setMode('forward');
      const done = await until('the operation to finish', 60_000, async () => {
        const p = await osb.call('GET', `/v2/service_instances/${id}/last_operation?operation=${enc(operation)}`);
        return p.body.state === 'in progress' ? undefined : p;
      });
      assert.equal(done.body.state, 'succeeded', JSON.stringify(done.body));
      assert.equal((await admin.call('GET', `vhosts/${enc(id)}`)).status, 200);
      assert.equal((await osb.call('GET', `/v2/service_instances/${id}`)).status, 200);
      assert.equal((await osb.call('DELETE', deprovisionPath(id))).status, 200);
    } finally {
      await cleanUp({ osb, warren, proxy, vhost: id });
    }
  });

  it('a provision left half-done by kill -9 is rolled back by the next warren on the same store, and last_operation says so', async () => {
    const proxy = await FaultProxy.start(15672);
    const dataDir = newDir();
    const first = await startBehind(proxy, dataDir);
    const id = uid('killed');
    try {
      proxy.setMode('hang');
      const pending = first.osb.call('PUT', `/v2/service_instances/${id}`, { body: provisionBody }).catch((err: Error) => err);
      await sleep(500);
      first.warren.child.kill('SIGKILL');
      await pending;
      await first.osb.close();
      proxy.setMode('forward');
      const second = await startBehind(proxy, dataDir);
      try {
        const op = await until('the abandoned provision to be rolled back', 20_000, async () => {
          const p = await second.osb.call('GET', `/v2/service_instances/${id}/last_operation`);
          return p.status === 200 && p.body.state === 'failed' ? p : undefined;
        });
        assert.match(op.body.description, /rolled back/);
        assert.equal((await second.osb.call('GET', `/v2/service_instances/${id}`)).status, 404);
        assert.equal((await admin.call('GET', `vhosts/${enc(id)}`)).status, 404, 'the vhost is gone');
      } finally {
        await second.osb.close();
        await second.warren.stop();
      }
    } finally {
      await proxy.close();
      await admin.call('DELETE', `vhosts/${enc(id)}`);
    }
  });

  it('a second warren on the same SQLite data dir refuses to start, naming the holder', async () => {
    const dataDir = newDir();
    const first = await startWarrenProcess({ dataDir });
    try {
      await assert.rejects(startWarrenProcess({ dataDir, timeoutMs: 15_000 }), (err: Error) => {
        assert.match(err.message, new RegExp(`pid ${first.pid}`));
        assert.match(err.message, /PostgreSQL/);
        return true;
      });
    } finally {
      await first.stop();
    }
    // Once the holder is gone (even by kill -9), the data dir is free again.
    const killed = await startWarrenProcess({ dataDir });
    killed.child.kill('SIGKILL');
    await new Promise((r) => killed.child.once('exit', r));
    const next = await startWarrenProcess({ dataDir });
    await next.stop();
  });
});
