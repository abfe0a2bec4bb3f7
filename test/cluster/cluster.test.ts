// warren, started as a process, against the real 3-node RabbitMQ cluster of
// scripts/cluster-up.sh (warren-c1..c3@localhost). Node 1 is reached through a fault proxy so
// it can stall while in use. Shows: credentials list every node; unbind and deprovision close
// an app's connections on every node; with the node in use stalled, and with it stopped, a
// bind/unbind load keeps succeeding through the others within budget, and the node is used
// again once it is back; the leak guard finds nothing in warren afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoLeaks } from '../../packages/leakguard/src/settle.ts';
import { takeSnapshot, type Snapshot } from '../../packages/leakguard/src/snapshot.ts';
import { openAmqp, within, type LiveConnection } from '../support/amqp-connection.ts';
import { DEFAULT_SERVICE_ID, OsbClient, SMALL_PLAN_ID } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { FaultProxy } from '../rabbitmq/helpers/fault-proxy.ts';
import { CLUSTER, clusterIsUp, startApp, stopApp } from './cluster-env.ts';
import { metricValue } from '../support/metric-value.ts';
import { median, nodeLoad } from './cluster-support.ts';

const suffix = Math.random().toString(36).slice(2, 8);
const q = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`;
const ATTEMPT_MS = 1000;
/** What the lead's request budget will be (issue 9: well under the platform's 60 s). */
const BUDGET_MS = 25_000;

describe('warren on a 3-node RabbitMQ cluster', () => {
  let proxy: FaultProxy;
  let warren: WarrenProcess;
  let osb: OsbClient;
  let dir: string;
  let baseline: Snapshot;
  /** The proxied node's metric label. */
  let proxied: string;
  const instances: string[] = [];
  const amqp: LiveConnection[] = [];
  let c1Stopped = false;

  before(async () => {
    assert.ok(await clusterIsUp(), 'the test cluster is not running: start it with scripts/cluster-up.sh (npm test does)');
    proxy = await FaultProxy.start(CLUSTER[0]!.mgmtPort, 'forward');
    proxied = '0'; // /metrics names a node by its position in management_urls, never its address
    dir = mkdtempSync(join(tmpdir(), 'warren-cluster-test-'));
    const config = join(dir, 'warren.yml');
    writeFileSync(
      config,
      [
        'rabbitmq:',
        `  management_urls: [http://guest:guest@127.0.0.1:${proxy.port}, ${CLUSTER.slice(1).map((n) => `http://guest:guest@127.0.0.1:${n.mgmtPort}`).join(', ')}]`,
        `  management_public_urls: [${CLUSTER.map((n) => n.mgmtUrl).join(', ')}]`,
        '  hosts: [127.0.0.1]',
        `  pool: { attempt_timeout_ms: ${ATTEMPT_MS} }`,
        '  health: { probe_interval_ms: 2000, probe_backoff_max_ms: 1000 }',
        '',
      ].join('\n'),
    );
    warren = await startWarrenProcess({ args: ['--config', config] });
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 16 });
    baseline = takeSnapshot(warren.pid);
  });

  after(async () => {
    for (const c of amqp) if (!c.isClosed()) await c.conn.close().catch(() => undefined);
    if (c1Stopped) await startApp(CLUSTER[0]!);
    for (const id of instances) await osb.call('DELETE', `/v2/service_instances/${id}?${q}`).catch(() => undefined);
    await osb?.close();
    await warren?.stop();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function provision(): Promise<string> {
    const id = `cl-${suffix}-${instances.length}`;
    const r = await osb.call('PUT', `/v2/service_instances/${id}`, {
      body: { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID, organization_guid: 'o', space_guid: 's' },
    });
    assert.equal(r.status, 201, r.text);
    instances.push(id);
    return id;
  }

  async function bind(instance: string, binding: string): Promise<Record<string, any>> {
    const r = await osb.call('PUT', `/v2/service_instances/${instance}/service_bindings/${binding}`, { body: { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID } });
    assert.equal(r.status, 201, r.text);
    return r.body.credentials;
  }

  /** One AMQP connection per node, logged in with the binding's credentials. */
  async function connectEverywhere(creds: Record<string, any>): Promise<LiveConnection[]> {
    const conns: LiveConnection[] = [];
    for (const n of CLUSTER) {
      const uri = `amqp://${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.password)}@127.0.0.1:${n.amqpPort}/${encodeURIComponent(creds.vhost)}`;
      const c = await openAmqp(uri);
      amqp.push(c);
      conns.push(c);
    }
    return conns;
  }

  it('credentials list every node; the binding user logs in on each node, over HTTP and AMQP', async () => {
    const id = await provision();
    const creds = await bind(id, `${id}-b`);
    assert.deepEqual(creds.http_api_uris.map((u: string) => new URL(u).port), CLUSTER.map((n) => String(n.mgmtPort)));
    assert.deepEqual(creds.protocols.management.uris.length, 3);
    for (const uri of creds.http_api_uris as string[]) {
      const u = new URL(uri);
      const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
      const res = await fetch(`${u.origin}/api/whoami`, { headers: { authorization: auth } });
      const text = await res.text();
      assert.equal(res.status, 200, `${u.origin}: ${text}`);
      assert.equal((JSON.parse(text) as { name: string }).name, creds.username);
    }
    const conns = await connectEverywhere(creds);
    assert.equal(conns.length, 3);
    for (const c of conns) await c.conn.close();
  });

  it('unbind closes the app connections on every node before it answers', async () => {
    const id = await provision();
    const creds = await bind(id, `${id}-b`);
    const conns = await connectEverywhere(creds);
    const r = await osb.call('DELETE', `/v2/service_instances/${id}/service_bindings/${id}-b?${q}`);
    assert.equal(r.status, 200, r.text);
    for (const [i, c] of conns.entries()) assert.ok(await within(c.closed, 2000), `the connection to ${CLUSTER[i]!.name} is still open`);
  });

  it('deprovision closes every binding connection on every node', async () => {
    const id = await provision();
    const a = await connectEverywhere(await bind(id, `${id}-a`));
    const b = await connectEverywhere(await bind(id, `${id}-b`));
    const r = await osb.call('DELETE', `/v2/service_instances/${id}?${q}`);
    assert.equal(r.status, 200, r.text);
    for (const c of [...a, ...b]) assert.ok(await within(c.closed, 2000), 'a connection survived deprovision');
  });

  it('the node in use stalls mid-load: answers keep coming within budget; the node is used again once back', async (t) => {
    const id = await provision();
    const load = nodeLoad(osb, id, 'stall', { cycles: 40, concurrency: 4 });
    await load.started(8);
    proxy.freeze(); // node 1 stops answering, on open connections too
    const result = await load.done;
    t.diagnostic(`stalled node mid-load: ${result.latencies.length} answers, median ${median(result.latencies)} ms, slowest ${result.maxMs} ms`);
    assert.deepEqual(result.failures, [], 'every bind and unbind succeeded through the other nodes');
    assert.ok(result.maxMs < ATTEMPT_MS * 3 + 2000 && result.maxMs < BUDGET_MS, `slowest answer ${result.maxMs} ms`);
    const ready = await osb.call('GET', '/ready', { auth: null, version: null });
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.body.nodes[0].state, 'down');
    assert.equal(ready.body.nodes[0].last_error, 'ATTEMPT_TIMEOUT');
    let m = (await osb.call('GET', '/metrics', { auth: null, version: null })).text;
    assert.ok((metricValue(m, 'warren_rabbitmq_attempt_duration_seconds_count', { node: proxied, outcome: 'timeout' }) ?? 0) >= 1);
    assert.ok((metricValue(m, 'warren_rabbitmq_failovers_total') ?? 0) >= 1);
    assert.equal(metricValue(m, 'warren_rabbitmq_node_up', { node: proxied }), 0);

    proxy.setMode('forward');
    await waitFor(async () => (await osb.call('GET', '/ready', { auth: null, version: null })).body.nodes[0].state === 'up', 10_000, 'node 1 back up');
    const before = metricValue(m, 'warren_rabbitmq_attempt_duration_seconds_count', { node: proxied, outcome: 'ok' }) ?? 0;
    const again = await nodeLoad(osb, id, 'back', { cycles: 5, concurrency: 1 }).done;
    assert.deepEqual(again.failures, []);
    m = (await osb.call('GET', '/metrics', { auth: null, version: null })).text;
    const afterOk = metricValue(m, 'warren_rabbitmq_attempt_duration_seconds_count', { node: proxied, outcome: 'ok' }) ?? 0;
    const node1 = m.split('\n').filter((l) => l.includes(`node="${proxied}"`) && (l.includes('_count') || l.includes('node_state'))).join('\n');
    assert.ok(afterOk >= before + 10, `node 1 answered ${afterOk - before} attempts after it came back\n${node1}`);
  });

  it('the node in use is stopped mid-load (rabbitmqctl stop_app): the others serve; used again once started', async (t) => {
    const id = await provision();
    const load = nodeLoad(osb, id, 'stop', { cycles: 40, concurrency: 4 });
    await load.started(8);
    c1Stopped = true;
    await stopApp(CLUSTER[0]!);
    const result = await load.done;
    t.diagnostic(`stopped node mid-load: ${result.latencies.length} answers, median ${median(result.latencies)} ms, slowest ${result.maxMs} ms, ${result.failures.length} failed`);
    // While stop_app runs, the stopping node's management routes vanish before its listener
    // does: for a moment it answers 404 "Object Not Found" to paths that exist, which no client
    // can tell from a real 404. Such answers become a few 502s in the protocol's shape (the
    // platform retries); anything else is a failure.
    const unexpected = result.failures.filter((f) => !/^(bind|unbind) 502 \{"error":"UpstreamFailure".*answered 404/.test(f));
    assert.deepEqual(unexpected, [], 'every bind and unbind succeeded through the other nodes');
    assert.ok(result.failures.length <= 8, `${result.failures.length} answers failed while the node stopped`);
    assert.ok(result.maxMs < BUDGET_MS, `slowest answer ${result.maxMs} ms`);
    const during = await nodeLoad(osb, id, 'stopped', { cycles: 10, concurrency: 2 }).done;
    assert.deepEqual(during.failures, []);
    const ready = await osb.call('GET', '/ready', { auth: null, version: null });
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.body.nodes[0].state, 'down');

    await startApp(CLUSTER[0]!);
    c1Stopped = false;
    await waitFor(async () => (await osb.call('GET', '/ready', { auth: null, version: null })).body.nodes[0].state === 'up', 15_000, 'node 1 back up');
    let m = (await osb.call('GET', '/metrics', { auth: null, version: null })).text;
    const before = metricValue(m, 'warren_rabbitmq_attempt_duration_seconds_count', { node: proxied, outcome: 'ok' }) ?? 0;
    const again = await nodeLoad(osb, id, 'restarted', { cycles: 5, concurrency: 1 }).done;
    assert.deepEqual(again.failures, []);
    m = (await osb.call('GET', '/metrics', { auth: null, version: null })).text;
    const afterOk = metricValue(m, 'warren_rabbitmq_attempt_duration_seconds_count', { node: proxied, outcome: 'ok' }) ?? 0;
    assert.ok(afterOk >= before + 10, `node 1 answered ${afterOk - before} attempts after start_app`);
  });

  it('the leak guard finds nothing in warren afterwards', async () => {
    // Keep-alive sockets to three nodes may stay open (fd growth), but none may leak.
    await assertNoLeaks(baseline, { pid: warren.pid, allowedFdGrowth: 200, deadlineMs: 10_000 });
  });
});

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}
