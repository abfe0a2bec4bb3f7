// Issue 9's "done when", measured on warren as a process against the 3-node cluster, with
// nodes stalled from the start behind fault proxies (they accept and never answer) and the
// default attempt deadline (5 s):
// - stalled first node: warren serves as soon as it starts (no later than with every node
//   healthy, within a second), /ready answers 200 within a second, and the median operation
//   costs what it costs without the stalled node;
// - every node stalled: warren serves at once, /ready answers 503 within a second naming the
//   failing check, and OSBAPI requests answer 503 well within the request budget.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SERVICE_ID, OsbClient, SMALL_PLAN_ID } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { FaultProxy } from '../rabbitmq/helpers/fault-proxy.ts';
import { CLUSTER, clusterIsUp } from './cluster-env.ts';
import { median, nodeLoad } from './cluster-support.ts';

const suffix = Math.random().toString(36).slice(2, 8);
const q = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`;
const BUDGET_MS = 25_000;
const dir = mkdtempSync(join(tmpdir(), 'warren-stalled-start-'));
const proxies: FaultProxy[] = [];
const running: Array<{ warren: WarrenProcess; osb: OsbClient }> = [];

before(async () => {
  assert.ok(await clusterIsUp(), 'the test cluster is not running: start it with scripts/cluster-up.sh (npm test does)');
});
after(async () => {
  for (const r of running) {
    await r.osb.close();
    await r.warren.stop();
  }
  for (const p of proxies) await p.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stalled(port: number): Promise<string> {
  const p = await FaultProxy.start(port, 'hang');
  proxies.push(p);
  return `http://guest:guest@127.0.0.1:${p.port}`;
}

/**
 * Starts warren on these management URLs; returns it with its own startup time (startWarren()
 * to listening, from the 'warren is listening' line: the process and tsx startup around it
 * vary too much with the shared CPU to compare).
 */
async function start(name: string, urls: string[]): Promise<{ warren: WarrenProcess; osb: OsbClient; listenMs: number }> {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, `rabbitmq:\n  management_urls: [${urls.join(', ')}]\n  hosts: [127.0.0.1]\n`);
  const warren = await startWarrenProcess({ args: ['--config', file] });
  const line = warren.logs.map((l) => JSON.parse(l) as { msg?: string; startup_ms?: number }).find((r) => r.msg === 'warren is listening');
  const listenMs = line?.startup_ms ?? Number.NaN;
  const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  running.push({ warren, osb });
  return { warren, osb, listenMs };
}

async function timedCall<T>(p: Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const v = await p;
  return [v, Date.now() - t0];
}

const healthyUrls = CLUSTER.slice(1).map((n) => `http://guest:guest@127.0.0.1:${n.mgmtPort}`);

describe('a stalled first node', () => {
  let healthy: Awaited<ReturnType<typeof start>>;
  let withStalled: Awaited<ReturnType<typeof start>>;

  before(async () => {
    healthy = await start('healthy', healthyUrls);
    withStalled = await start('stalled-first', [await stalled(CLUSTER[0]!.mgmtPort), ...healthyUrls]);
  });
  after(async () => {
    for (const w of [healthy, withStalled]) await w?.osb.call('DELETE', `/v2/service_instances/ss-${suffix}-${w === healthy ? 'h' : 's'}?${q}`);
  });

  it('warren listens as soon as with healthy nodes only (within a second of it), and /ready is 200 within a second', async (t) => {
    t.diagnostic(`startup to listening: ${healthy.listenMs} ms healthy, ${withStalled.listenMs} ms with a stalled first node`);
    // Its own setup (store, HTTP server) takes ~0.1-1 s on this shared CPU; the stalled node adds
    // nothing to it (it used to add the 15 s headers timeout).
    assert.ok(withStalled.listenMs < healthy.listenMs + 1000 && withStalled.listenMs < 5000, `${withStalled.listenMs} ms vs ${healthy.listenMs} ms`);
    const [ready, ms] = await timedCall(withStalled.osb.call('GET', '/ready', { auth: null, version: null }));
    assert.ok(ms < 1000, `/ready took ${ms} ms`);
    assert.equal(ready.status, 200, ready.text);
    assert.match(ready.body.checks.rabbitmq.detail, /^[12] of 3 management node\(s\) up/);
    assert.notEqual(ready.body.nodes[0].state, 'up', 'the stalled node is not reported up');
  });

  it('the median operation costs what it costs without the stalled node', async (t) => {
    const cost = async (w: typeof healthy, id: string) => {
      const [p, pms] = await timedCall(w.osb.call('PUT', `/v2/service_instances/${id}`, {
        body: { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID, organization_guid: 'o', space_guid: 's' },
      }));
      assert.equal(p.status, 201, p.text);
      const load = await nodeLoad(w.osb, id, 'm', { cycles: 15, concurrency: 1 }).done;
      assert.deepEqual(load.failures, []);
      return { provisionMs: pms, median: median(load.latencies), max: load.maxMs };
    };
    const h = await cost(healthy, `ss-${suffix}-h`);
    const s = await cost(withStalled, `ss-${suffix}-s`);
    t.diagnostic(`bind/unbind median ${h.median} ms healthy vs ${s.median} ms with a stalled first node; slowest ${h.max} vs ${s.max} ms; provision ${h.provisionMs} vs ${s.provisionMs} ms`);
    assert.ok(s.median <= h.median * 2 + 25, `median ${s.median} ms vs ${h.median} ms`);
    assert.ok(s.max < 1000, `no operation waited for the stalled node (slowest ${s.max} ms)`);
  });
});

describe('every node stalled', () => {
  let w: Awaited<ReturnType<typeof start>>;
  let reference: number;

  before(async () => {
    reference = (await start('reference', healthyUrls)).listenMs;
    w = await start('all-stalled', await Promise.all(CLUSTER.map((n) => stalled(n.mgmtPort))));
  });

  it('warren listens at once and /ready answers 503 within a second, naming the rabbitmq check', async () => {
    assert.ok(w.listenMs < reference + 1000 && w.listenMs < 5000, `${w.listenMs} ms vs ${reference} ms with healthy nodes`);
    assert.equal((await w.osb.call('GET', '/health', { auth: null, version: null })).status, 200);
    const [ready, ms] = await timedCall(w.osb.call('GET', '/ready', { auth: null, version: null }));
    assert.ok(ms < 1000, `/ready took ${ms} ms`);
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.body.checks.rabbitmq.ok, false);
    assert.match(ready.body.checks.rabbitmq.detail, /no RabbitMQ management node/);
    assert.doesNotMatch(ready.text, /guest:guest/);
  });

  it('OSBAPI requests answer 503 in the protocol shape within the budget; once the nodes are known down, at once', async (t) => {
    const body = { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID, organization_guid: 'o', space_guid: 's' };
    const [first, firstMs] = await timedCall(w.osb.call('PUT', `/v2/service_instances/as-${suffix}`, { body }));
    t.diagnostic(`first provision answered ${first.status} after ${firstMs} ms`);
    assert.equal(first.status, 503, first.text);
    assert.equal(first.body.error, 'ServiceUnavailable');
    assert.ok(firstMs < BUDGET_MS, `${firstMs} ms`);
    assert.ok(firstMs < 12_000, `about one attempt deadline (5 s), not one per node and round: ${firstMs} ms`);

    const [again, againMs] = await timedCall(w.osb.call('PUT', `/v2/service_instances/as2-${suffix}`, { body }));
    assert.equal(again.status, 503, again.text);
    assert.ok(againMs < 1000, `with every node known stalled: ${againMs} ms`);
    const ready = await w.osb.call('GET', '/ready', { auth: null, version: null });
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.nodes.map((n: { state: string }) => n.state), ['down', 'down', 'down']);
    assert.equal((await w.osb.call('GET', '/v2/catalog')).status, 200, 'the catalog needs no RabbitMQ');
  });
});
