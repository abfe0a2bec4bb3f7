// /health, /ready and /metrics as an operator's probes and Prometheus see them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SERVICE_ID, OsbClient, STANDARD_PLAN_ID } from '../../testkit/osb-client.ts';
import { metricValue } from '../support/metric-value.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const suffix = Math.random().toString(36).slice(2, 8);

describe('health, readiness and metrics', () => {
  let warren: WarrenProcess;
  let osb: OsbClient;
  const id = `obs-${suffix}`;

  before(async () => {
    warren = await startWarrenProcess();
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  });
  after(async () => {
    await osb.call('DELETE', `/v2/service_instances/${id}?service_id=${DEFAULT_SERVICE_ID}&plan_id=${STANDARD_PLAN_ID}`);
    await osb.close();
    await warren.stop();
  });

  it('/health and /ready answer without credentials; ready lists every check', async () => {
    const health = await osb.call('GET', '/health', { auth: null, version: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await osb.call('GET', '/ready', { auth: null, version: null });
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.body.ready, true);
    assert.deepEqual(Object.keys(ready.body.checks).sort(), ['close_wait_to_rabbitmq', 'fd_growth', 'file_descriptors', 'plan_policies', 'rabbitmq', 'store']);
    assert.match(ready.body.checks.file_descriptors.detail, /^\d+ of \d+ open/);
    assert.match(ready.body.checks.rabbitmq.detail, /^1 of 1 management node\(s\) up/);
    assert.deepEqual(ready.body.nodes.map((n: { node: string; state: string }) => [n.node, n.state]), [['0', 'up']], 'nodes by position, not address');
  });

  it('/metrics has fds, OSBAPI operations, management calls, the pool and sockets to RabbitMQ', async () => {
    assert.equal((await osb.call('PUT', `/v2/service_instances/${id}`, {
      body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID, organization_guid: 'o', space_guid: 's' },
    })).status, 201);
    const bound = await osb.call('PUT', `/v2/service_instances/${id}/service_bindings/${id}-b`, {
      body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID },
    });
    assert.equal(bound.status, 201);
    assert.equal((await osb.call('GET', '/v2/catalog')).status, 200);

    const m = await osb.call('GET', '/metrics', { auth: null, version: null });
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain/);
    const text = m.text;
    assert.ok((metricValue(text, 'process_open_fds') ?? 0) > 0, 'process_open_fds');
    assert.ok((metricValue(text, 'process_max_fds') ?? 0) > 0, 'process_max_fds');
    assert.equal(metricValue(text, 'warren_osbapi_requests_total', { operation: 'provision', code: '201' }), 1, 'provision count');
    assert.equal(metricValue(text, 'warren_osbapi_requests_total', { operation: 'bind', code: '201' }), 1, 'bind count');
    assert.ok((metricValue(text, 'warren_osbapi_request_duration_seconds_count', { operation: 'bind' }) ?? 0) >= 1, 'bind latency histogram');
    assert.ok((metricValue(text, 'warren_rabbitmq_management_calls_total', { method: 'PUT', path: '/api/users/{}', code: '201' }) ?? 0) >= 1, 'management calls');
    assert.ok((metricValue(text, 'warren_rabbitmq_pool_connections', { kind: 'connected' }) ?? 0) >= 1, 'pool connected');
    assert.ok((metricValue(text, 'warren_rabbitmq_sockets', { node: '0', state: 'ESTABLISHED' }) ?? 0) >= 1, 'sockets to RabbitMQ by state');
    assert.equal(metricValue(text, 'warren_rabbitmq_node_up', { node: '0' }), 1, 'node up gauge');
    assert.equal(metricValue(text, 'warren_rabbitmq_node_state', { node: '0', state: 'up' }), 1, 'node state gauge');
    assert.ok((metricValue(text, 'warren_rabbitmq_attempt_duration_seconds_count', { node: '0', outcome: 'ok' }) ?? 0) >= 3, 'attempt durations by outcome');
    assert.equal(metricValue(text, 'warren_rabbitmq_failovers_total'), 0, 'failovers');
    assert.equal(metricValue(text, 'warren_rabbitmq_deadline_exceeded_total'), 0, 'deadline exceeded');
    assert.ok(!text.includes(bound.body.credentials.password), 'no secret in metrics');
    assert.ok(!text.includes(warren.password), 'no broker password in metrics');
    assert.ok(!text.includes('127.0.0.1:15672') && !text.includes('http://'), 'no management node address in metrics');
  });
});

describe('readiness when RabbitMQ cannot be reached', () => {
  let warren: WarrenProcess;
  let closed: Server;
  let port: number;

  before(async () => {
    // A port that was just free: nothing listens there once the server is closed.
    closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    warren = await startWarrenProcess({ env: { WARREN_MANAGEMENT_URLS: `http://guest:guest@127.0.0.1:${port}` } });
  });
  after(async () => {
    await warren.stop();
  });

  it('is alive but not ready, naming the failing check without credentials', async () => {
    const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
    try {
      assert.equal((await osb.call('GET', '/health')).status, 200);
      const t0 = Date.now();
      const ready = await osb.call('GET', '/ready');
      assert.ok(Date.now() - t0 < 1000, `/ready took ${Date.now() - t0} ms`);
      assert.equal(ready.status, 503, ready.text);
      assert.equal(ready.body.ready, false);
      assert.equal(ready.body.checks.rabbitmq.ok, false);
      assert.match(ready.body.checks.rabbitmq.detail, /no RabbitMQ management node is up: 0 of 1 .* down \(ECONNREFUSED\)/);
      assert.equal(ready.body.nodes[0].state, 'down');
      assert.equal(ready.body.checks.store.ok, true);
      assert.doesNotMatch(ready.text, /guest|127\.0\.0\.1|:\d{4,5}\b|http:/, 'no account or internal address on the unauthenticated /ready');
      // The catalog does not need RabbitMQ; a provision does, and says so in the protocol's shape.
      assert.equal((await osb.call('GET', '/v2/catalog')).status, 200);
      const p = await osb.call('PUT', `/v2/service_instances/unreachable-${suffix}`, {
        body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID, organization_guid: 'o', space_guid: 's' },
      });
      assert.equal(p.status, 503, p.text);
      assert.equal(p.body.error, 'ServiceUnavailable');
      assert.doesNotMatch(p.text, /guest|127\.0\.0\.1|http:/, 'the platform sees what failed, not where or as whom');
      assert.ok(p.text.includes(String(port)) === false, p.text);
      // The operator's log has the detail the platform does not get.
      const detailed = () => warren.logs.filter((l) => l.includes('provisioning failed') && l.includes(`127.0.0.1:${port}`));
      for (let i = 0; i < 40 && detailed().length === 0; i++) await new Promise((r) => setTimeout(r, 50)); // the log is written asynchronously
      assert.ok(detailed().length >= 1, 'the broker log names the unreachable node');
      assert.equal((await osb.call('GET', `/v2/service_instances/unreachable-${suffix}`)).status, 404, 'nothing half-made is visible');
    } finally {
      await osb.close();
    }
  });
});
