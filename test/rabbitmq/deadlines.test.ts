// Deadlines and node health in the management client, against the real RabbitMQ behind a
// fault-injecting proxy: a stalled node costs one attempt deadline and is then skipped until
// the probe sees it back; a request budget (src/deadline) bounds the whole call; bodies and
// sockets never outlive an aborted attempt.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { withBudget } from '../../src/deadline/budget.ts';
import {
  createManagementClient,
  ManagementDeadlineError,
  ManagementTransportError,
  ManagementUnavailableError,
  type CallEvent,
  type ManagementClient,
  type ManagementClientOptions,
} from '../../src/rabbitmq/index.ts';
import { ADMIN_PASS, ADMIN_USER, MGMT_PORT, urlWithCredentials } from './helpers/env.ts';
import { closedPort, FaultProxy, type FaultMode } from './helpers/fault-proxy.ts';
import { closeWait, eventually, socketsTo } from './helpers/proc-sockets.ts';

const proxies: FaultProxy[] = [];
const clients: ManagementClient[] = [];
after(async () => {
  for (const c of clients) await c.close();
  for (const p of proxies) await p.close();
});

async function proxy(mode: FaultMode): Promise<FaultProxy> {
  const p = await FaultProxy.start(MGMT_PORT, mode);
  proxies.push(p);
  return p;
}

const viaProxy = (p: FaultProxy): string => urlWithCredentials(`http://127.0.0.1:${p.port}`, ADMIN_USER, ADMIN_PASS);

function client(urls: string[], extra: Partial<ManagementClientOptions> = {}): ManagementClient {
  const c = createManagementClient({
    urls,
    attemptTimeoutMs: 300,
    retry: { maxRounds: 2, baseDelayMs: 10, maxDelayMs: 20 },
    health: { probeMinDelayMs: 100, probeMaxDelayMs: 200, probeIntervalMs: 60_000 },
    ...extra,
  });
  clients.push(c);
  return c;
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - t0, value };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
}

it('a stalled first node costs one attempt deadline, is marked down, and is skipped afterwards', async () => {
  const stalled = await proxy('hang');
  const mc = client([viaProxy(stalled), urlWithCredentials()]);
  const first = await timed(mc.getUser('nobody'));
  assert.equal(first.error, undefined, String(first.error));
  assert.ok(first.ms >= 280 && first.ms < 2500, `first call took ${first.ms} ms`);
  assert.equal(mc.stats().counters.transportErrors['ATTEMPT_TIMEOUT'], 1);
  assert.equal(mc.nodeHealth()[0]?.state, 'down');
  assert.equal(mc.nodeHealth()[0]?.last_error, 'ATTEMPT_TIMEOUT');
  assert.equal(mc.nodeHealth()[1]?.state, 'up');

  const acceptedBefore = stalled.accepted;
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) assert.equal(await mc.getUser('nobody-' + i), null);
  const took = Date.now() - t0;
  assert.ok(took < 2000, `20 calls took ${took} ms: the stalled node was tried again`);
  // Only the background probe (a few, with backoff) reached the stalled node, no call did.
  assert.equal(mc.stats().counters.attempts, 22);
  assert.ok(stalled.accepted - acceptedBefore <= 10, `${stalled.accepted - acceptedBefore} connections to the stalled node`);
});

it('the probe sees a node come back, and calls use it again (configured order among up nodes)', async () => {
  const flaky = await proxy('hang');
  const mc = client([viaProxy(flaky), urlWithCredentials()]);
  assert.equal(await mc.getUser('nobody'), null);
  assert.equal(mc.nodeHealth()[0]?.state, 'down');
  flaky.setMode('forward');
  assert.ok(await eventually(() => mc.nodeHealth()[0]?.state === 'up', 5000), JSON.stringify(mc.nodeHealth()));
  assert.ok(mc.stats().counters.probes >= 1);
  assert.equal(await mc.getUser('nobody'), null);
  assert.equal(mc.stats().nodes[0]?.preferred, true, 'the recovered first node answered the call');
});

it('a body that stalls after the headers is cut by the attempt deadline, and its socket closed', async () => {
  const stall = await proxy('stall-body');
  // No probe in this test: it would open (and stall) sockets of its own.
  const mc = client([viaProxy(stall), urlWithCredentials()], { attemptTimeoutMs: 1500, health: { probeMinDelayMs: 60_000 } });
  const call = timed(mc.overview());
  // The socket carrying the stalled body, seen while the attempt waits.
  let stalledInodes: number[] = [];
  await eventually(() => (stalledInodes = socketsTo(stall.port).map((s) => s.inode)).length > 0, 1200);
  const r = await call;
  assert.equal(r.error, undefined, String(r.error));
  assert.ok((r.value as { rabbitmq_version: string }).rabbitmq_version);
  assert.ok(r.ms >= 1450 && r.ms < 4000, `took ${r.ms} ms`);
  assert.equal(mc.stats().counters.transportErrors['ATTEMPT_TIMEOUT'], 1);
  assert.ok(stalledInodes.length > 0, 'saw the stalled exchange');
  // (undici may open a fresh idle socket to that node afterwards; the stalled one must be gone.)
  assert.ok(
    await eventually(() => !socketsTo(stall.port).some((s) => stalledInodes.includes(s.inode))),
    JSON.stringify(socketsTo(stall.port)),
  );
  assert.deepEqual(closeWait(), []);
});

it('inside a request budget, every node stalled: ManagementDeadlineError when the budget ends, not later', async () => {
  const a = await proxy('hang');
  const b = await proxy('hang');
  const mc = client([viaProxy(a), viaProxy(b)], { attemptTimeoutMs: 5000, retry: { maxRounds: 3, baseDelayMs: 10, maxDelayMs: 20 } });
  const r = await timed(withBudget(400, () => mc.putUser('u-deadline', { password: 'x-secret-x' })));
  assert.ok(r.error instanceof ManagementDeadlineError, String(r.error));
  assert.ok(r.error instanceof ManagementUnavailableError, 'a 503 for callers that map unavailability');
  assert.equal(r.error.code, 'DEADLINE_EXCEEDED');
  assert.ok(r.ms >= 380 && r.ms < 1500, `answered after ${r.ms} ms`);
  assert.ok(!String(r.error).includes('x-secret-x'));
  assert.equal(mc.stats().counters.deadlineExceeded, 1);
  // The budget ran out, the node did not fail: it is not blamed for it.
  assert.equal(mc.nodeHealth()[0]?.state, 'unknown');
  // The aborted exchange's socket is gone, not left to the stalled node.
  assert.ok(await eventually(() => socketsTo(a.port).length === 0 && socketsTo(b.port).length === 0));
});

it('a budget shorter than the attempt deadline: the stalled first node is left when the budget allows a second', async () => {
  const stalled = await proxy('hang');
  const mc = client([viaProxy(stalled), urlWithCredentials()], { attemptTimeoutMs: 300 });
  const r = await timed(withBudget(3000, () => mc.getUser('nobody')));
  assert.equal(r.error, undefined, String(r.error));
  assert.ok(r.ms < 2000, `took ${r.ms} ms`);
});

it('a spent budget fails at once, without an attempt; a backoff longer than the budget is not waited for', async () => {
  const mc = client([urlWithCredentials()]);
  const spent = await timed(withBudget(0, () => mc.getUser('nobody')));
  assert.ok(spent.error instanceof ManagementDeadlineError, String(spent.error));
  assert.equal(spent.error.attempts, 0);
  assert.equal(mc.stats().counters.attempts, 0);

  const dead = urlWithCredentials(`http://127.0.0.1:${await closedPort()}`);
  const mc2 = client([dead], { retry: { maxRounds: 5, baseDelayMs: 2000, maxDelayMs: 2000 } });
  const r = await timed(withBudget(1000, () => mc2.getUser('nobody')));
  assert.ok(r.error instanceof ManagementDeadlineError, String(r.error));
  assert.equal(r.error.attempts, 1);
  assert.ok(r.error.cause instanceof ManagementTransportError && r.error.cause.code === 'ECONNREFUSED');
  assert.ok(r.ms < 500, `waited ${r.ms} ms for a backoff that could not fit`);
});

it('without a budget the attempt deadline still bounds a stalled single node; then calls fail at once until the probe sees it back', async () => {
  const stalled = await proxy('hang');
  const mc = client([viaProxy(stalled)], { retry: { maxRounds: 3, baseDelayMs: 10, maxDelayMs: 10 } });
  const r = await timed(mc.overview());
  assert.ok(r.error instanceof ManagementUnavailableError && !(r.error instanceof ManagementDeadlineError), String(r.error));
  assert.equal(r.error.attempts, 1, 'a node that stalled is not retried within the call');
  assert.ok(r.error.cause instanceof ManagementTransportError && r.error.cause.code === 'ATTEMPT_TIMEOUT');
  assert.ok(r.ms >= 280 && r.ms < 2000, `took ${r.ms} ms`);
  const next = await timed(mc.getUser('nobody'));
  assert.ok(next.error instanceof ManagementUnavailableError, String(next.error));
  assert.equal(next.error.attempts, 0);
  assert.match(next.error.message, /every node is down after stalling/);
  assert.ok(next.ms < 100, `a call with every node stalled took ${next.ms} ms`);
  stalled.setMode('forward');
  assert.ok(await eventually(() => mc.nodeHealth()[0]?.state === 'up', 5000), 'the probe saw it back');
  assert.equal(await mc.getUser('nobody'), null);
});

it('attempt outcomes reach onCall; probes are reported as attempt 0; close stops the probes', async () => {
  const events: CallEvent[] = [];
  const refusedPort = await closedPort();
  const mc = client([urlWithCredentials(`http://127.0.0.1:${refusedPort}`), urlWithCredentials()], { onCall: (e) => void events.push(e) });
  assert.equal(await mc.getUser('nobody'), null);
  assert.deepEqual(events.slice(0, 2).map((e) => [e.attempt, e.outcome]), [[1, 'transport'], [2, 'ok']]);
  assert.ok(await eventually(() => events.some((e) => e.attempt === 0), 3000), 'a probe of the refused node');
  assert.equal(events.find((e) => e.attempt === 0)?.pathTemplate, '/api/whoami');
  await mc.close();
  const probes = mc.stats().counters.probes;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(mc.stats().counters.probes, probes, 'no probe after close');
});

it('startProbing learns every node state without any call, and a stalled probe does not hold close()', async () => {
  const stalled = await proxy('hang');
  const mc = client([viaProxy(stalled), urlWithCredentials()], { attemptTimeoutMs: 5000 });
  mc.startProbing();
  assert.ok(await eventually(() => mc.nodeHealth()[1]?.state === 'up', 2000));
  assert.equal(mc.nodeHealth()[0]?.state, 'unknown', 'the stalled node has not answered yet');
  const t0 = Date.now();
  await mc.close();
  assert.ok(Date.now() - t0 < 1500, `close took ${Date.now() - t0} ms`);
  // (The proxy in this process sees our FIN a moment later and closes its side then.)
  assert.ok(await eventually(() => closeWait().length === 0), JSON.stringify(closeWait()));
});

it('a node that goes down between keep-fresh probes is probed at once, not at the next interval', async () => {
  const flaky = await proxy('forward');
  const mc = client([viaProxy(flaky), urlWithCredentials()], { health: { probeMinDelayMs: 100, probeMaxDelayMs: 200, probeIntervalMs: 60_000 } });
  mc.startProbing();
  assert.ok(await eventually(() => mc.nodeHealth()[0]?.state === 'up', 2000));
  flaky.freeze();
  assert.equal(await mc.getUser('nobody'), null, 'answered by the second node');
  assert.equal(mc.nodeHealth()[0]?.state, 'down');
  flaky.setMode('forward');
  assert.ok(await eventually(() => mc.nodeHealth()[0]?.state === 'up', 3000), JSON.stringify(mc.nodeHealth()));
});
