// Failover across nodes, against the real RabbitMQ behind a fault-injecting TCP proxy: dead,
// resetting, garbage-speaking, hanging, 503-answering and body-cutting first nodes.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  createManagementClient,
  ManagementTransportError,
  ManagementUnavailableError,
  type ManagementClient,
  type ManagementClientOptions,
} from '../../src/rabbitmq/index.ts';
import { parseNodes, resolveOptions } from '../../src/rabbitmq/options.ts';
import { RequestFunnel } from '../../src/rabbitmq/request-funnel.ts';
import { ADMIN_PASS, ADMIN_USER, MGMT_PORT, MGMT_URL, urlWithCredentials } from './helpers/env.ts';
import { closedPort, FaultProxy, type FaultMode } from './helpers/fault-proxy.ts';
import { closeWait, eventually, socketsTo } from './helpers/proc-sockets.ts';

const proxies: FaultProxy[] = [];
const clients: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of clients) await c.close();
  for (const p of proxies) await p.close();
});

const SECRET = 'F41l0ver-Secret-' + Math.random().toString(36).slice(2);

async function proxy(mode: FaultMode): Promise<FaultProxy> {
  const p = await FaultProxy.start(MGMT_PORT, mode);
  proxies.push(p);
  return p;
}

function client(urls: string[], extra: Partial<ManagementClientOptions> = {}): ManagementClient {
  const c = createManagementClient({
    urls,
    headersTimeoutMs: 400,
    connectTimeoutMs: 400,
    retry: { maxRounds: 2, baseDelayMs: 10, maxDelayMs: 20 },
    ...extra,
  });
  clients.push(c);
  return c;
}

const viaProxy = (p: FaultProxy, pass = ADMIN_PASS): string => urlWithCredentials(`http://127.0.0.1:${p.port}`, ADMIN_USER, pass);

it('a refused first node: calls go to the second, which then sticks', async () => {
  const dead = urlWithCredentials(`http://127.0.0.1:${await closedPort()}`, ADMIN_USER, SECRET);
  const mc = client([dead, urlWithCredentials()]);
  assert.ok((await mc.overview()).rabbitmq_version);
  let s = mc.stats();
  assert.equal(s.counters.attempts, 2);
  assert.equal(s.counters.transportErrors['ECONNREFUSED'], 1);
  assert.deepEqual(s.nodes.map((n) => n.preferred), [false, true]);
  for (let i = 0; i < 10; i++) await mc.getUser('nobody-' + i);
  s = mc.stats();
  assert.equal(s.counters.attempts, 12, 'the dead node is not tried again once another answered');
  assert.ok(!JSON.stringify(s).includes(SECRET));
});

for (const mode of ['reset', 'garbage', 'http503'] as const) {
  it(`a first node that ${mode === 'reset' ? 'resets connections' : mode === 'garbage' ? 'speaks garbage' : 'answers 503'}: the second answers`, async () => {
    const bad = await proxy(mode);
    const mc = client([viaProxy(bad), urlWithCredentials()]);
    assert.equal(await mc.getUser('nobody'), null);
    const s = mc.stats();
    assert.equal(s.counters.attempts, 2);
    assert.equal(s.nodes[1]?.preferred, true);
    if (mode === 'http503') assert.equal(s.counters.errorsByStatus['503'], 1);
    else assert.equal(Object.values(s.counters.transportErrors).reduce((a, b) => a + b, 0), 1);
  });
}

it('a hanging first node hits the headers timeout and fails over', async () => {
  const hang = await proxy('hang');
  const mc = client([viaProxy(hang), urlWithCredentials()], { headersTimeoutMs: 300 });
  const t0 = Date.now();
  assert.ok((await mc.overview()).rabbitmq_version);
  const took = Date.now() - t0;
  assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
  assert.equal(mc.stats().counters.transportErrors['UND_ERR_HEADERS_TIMEOUT'], 1);
  // The timed-out socket was destroyed, not left to the hanging node.
  assert.ok(await eventually(() => socketsTo(hang.port).length === 0));
});

it('all nodes down: ManagementUnavailableError after bounded attempts, without credentials', async () => {
  const reset = await proxy('reset');
  const dead = urlWithCredentials(`http://127.0.0.1:${await closedPort()}`, ADMIN_USER, SECRET);
  const mc = client([dead, viaProxy(reset, SECRET)], { retry: { maxRounds: 3, baseDelayMs: 10, maxDelayMs: 40 } });
  const t0 = Date.now();
  const err = await mc.putUser('u', { password: 'user-' + SECRET }).then(
    () => assert.fail('expected failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ManagementUnavailableError, String(err));
  // Round 1 tries both (the refused node is then down); round 2 only the resetting one (now
  // down too); round 3 both again, as a last resort once every node is down.
  assert.equal(err.attempts, 5, 'down nodes are skipped while another is left');
  assert.equal(err.nodes.length, 2);
  assert.ok(err.cause instanceof ManagementTransportError);
  assert.ok(Date.now() - t0 < 2000);
  const shown = [String(err), err.stack, inspect(err, { depth: 10, showHidden: true })].join('\n');
  assert.ok(!shown.includes(SECRET), 'credentials or the request body leaked into the error');
  assert.ok(!shown.includes(ADMIN_USER + ':'), 'userinfo leaked into the error');
});

it('the retry budget stops a call before its rounds are used up', async () => {
  const dead = urlWithCredentials(`http://127.0.0.1:${await closedPort()}`);
  const mc = client([dead], { retry: { maxRounds: 50, baseDelayMs: 40, maxDelayMs: 40, budgetMs: 150 } });
  const t0 = Date.now();
  const err = await mc.overview().catch((e: unknown) => e);
  assert.ok(err instanceof ManagementUnavailableError);
  assert.ok(err.attempts < 10, `${err.attempts} attempts`);
  assert.ok(Date.now() - t0 < 1000);
});

it('retries with backoff on a single node recover from transient resets', async () => {
  const flaky = await proxy('forward');
  flaky.setMode('reset', 2); // the first two connections are reset, then it forwards
  const mc = client([viaProxy(flaky)], { retry: { maxRounds: 3, baseDelayMs: 20, maxDelayMs: 40 } });
  const t0 = Date.now();
  assert.equal(await mc.getUser('nobody'), null);
  assert.equal(mc.stats().counters.attempts, 3);
  assert.ok(Date.now() - t0 >= 20, 'rounds are spaced by a backoff');
});

it('a response body cut mid-way: typed error, and no socket left behind', async () => {
  const cut = await proxy('cut-body');
  const mc = client([viaProxy(cut)], { retry: { maxRounds: 2, baseDelayMs: 5, maxDelayMs: 5 } });
  const err = await mc.overview().catch((e: unknown) => e);
  assert.ok(err instanceof ManagementUnavailableError, String(err));
  assert.ok(err.cause instanceof ManagementTransportError);
  assert.equal(err.attempts, 2);
  assert.equal(cut.accepted, 2);
  assert.ok(await eventually(() => socketsTo(cut.port).length === 0), JSON.stringify(socketsTo(cut.port)));
  assert.deepEqual(closeWait(), []);
  // With a healthy second node the same call succeeds.
  const mc2 = client([viaProxy(cut), urlWithCredentials()]);
  assert.ok((await mc2.overview()).rabbitmq_version);
});

it('a non-idempotent request fails over only when it cannot have reached a node', async () => {
  const opts = (urls: string[]) => ({ urls, headersTimeoutMs: 300, connectTimeoutMs: 300 });
  const req = { method: 'GET', path: '/api/overview', template: '/api/overview', ok: [200], read: 'dump', idempotent: false } as const;

  const refusedFirst = opts([urlWithCredentials(`http://127.0.0.1:${await closedPort()}`), urlWithCredentials()]);
  const f1 = new RequestFunnel(parseNodes(refusedFirst), resolveOptions(refusedFirst), {});
  clients.push(f1);
  assert.equal((await f1.request(req)).status, 200, 'refused before sending: safe to try the next node');

  const hang = await proxy('hang');
  const hangFirst = opts([viaProxy(hang), urlWithCredentials()]);
  const f2 = new RequestFunnel(parseNodes(hangFirst), resolveOptions(hangFirst), {});
  clients.push(f2);
  const err = await f2.request(req).catch((e: unknown) => e);
  assert.ok(err instanceof ManagementUnavailableError);
  assert.equal(err.attempts, 1, 'the request may have been processed: not sent again');
});

it('credentials may be given separately from the URLs', async () => {
  const mc = client([`http://127.0.0.1:${await closedPort()}`, MGMT_URL], { username: ADMIN_USER, password: ADMIN_PASS });
  assert.ok((await mc.overview()).rabbitmq_version);
});
