// Every answer path of the management client, each with a 1 MiB body: far more than undici
// buffers (64 KiB) and the socket buffers hold, so a body left unread on that path keeps its
// socket (and, with a bounded pool, its pool slot) for good. Real RabbitMQ cannot send a 1 MiB
// 404, a 503 with a body, a non-JSON 200 or a cut body on demand: a local HTTP server does.
// Each test makes more sequential calls than the pool has sockets, then asserts what an
// operator would see: every call answered (none stuck behind a held slot), no socket with
// unread bytes or in CLOSE_WAIT, and never more sockets to a node than the pool allows. They
// use only the public client API (createManagementClient, RequestFunnel.request), so they hold
// whatever the funnel's internals become.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { readProcFdLinks, takeSnapshot, tallyFdLinks } from '../../packages/leakguard/src/index.ts';
import {
  createManagementClient,
  ManagementError,
  ManagementProtocolError,
  ManagementUnavailableError,
  type ManagementClient,
} from '../../src/rabbitmq/index.ts';
import { parseNodes, resolveOptions } from '../../src/rabbitmq/options.ts';
import { RequestFunnel } from '../../src/rabbitmq/request-funnel.ts';

interface FakeServer {
  url: string;
  port: number;
}

// The nodes live in a child process, so every socket fd this process gains is a client socket.
const serverProcess = spawn(process.execPath, [new URL('./helpers/answer-server.mjs', import.meta.url).pathname], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const ports = JSON.parse(
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: serverProcess.stdout! }).once('line', resolve);
    serverProcess.once('exit', (code) => reject(new Error(`answer-server.mjs exited with ${code} before listening`)));
  }),
) as {
  a: number;
  b: number;
};
const nodeA: FakeServer = { url: `http://127.0.0.1:${ports.a}`, port: ports.a };
const nodeB: FakeServer = { url: `http://127.0.0.1:${ports.b}`, port: ports.b };

const POOL = 3;
/** More calls than the pool has sockets: a held slot makes a later call wait forever. */
const CALLS = POOL * 3;

const clients: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of clients) await c.close();
  serverProcess.kill('SIGKILL');
});

const CLIENT_OPTIONS = {
  username: 'u',
  password: 'p',
  connectionsPerNode: POOL,
  bodyTimeoutMs: 300,
  closeTimeoutMs: 500, // a call stuck behind a held body must not hold the test's close() for long
  retry: { maxRounds: 2, baseDelayMs: 5, maxDelayMs: 5 },
};

function client(nodes: FakeServer[] = [nodeA]): ManagementClient {
  const c = createManagementClient({ urls: nodes.map((n) => n.url), ...CLIENT_OPTIONS });
  clients.push(c);
  return c;
}

function funnel(nodes: FakeServer[] = [nodeA]): RequestFunnel {
  const opts = { urls: nodes.map((n) => n.url), ...CLIENT_OPTIONS };
  const f = new RequestFunnel(parseNodes(opts), resolveOptions(opts), {});
  clients.push(f);
  return f;
}

/** This process's client sockets to a node, by state, with their unread bytes. */
function socketsTo(node: FakeServer): Array<{ state: string; rxQueue: number }> {
  return takeSnapshot('self').sockets.filter((s) => s.direction === 'out' && s.remotePort === node.port);
}

/** Fds of this process, all and sockets: cheap enough to sample every few ms (unlike /proc/net/tcp). */
function fds(): { total: number; socket: number } {
  const links = readProcFdLinks(process.pid);
  return links === 'denied' ? { total: 0, socket: 0 } : tallyFdLinks(links).counts;
}
const socketFds = (): number => fds().socket;

/**
 * Runs `call` CALLS times, one after another, each within a deadline, while watching the
 * sockets to the nodes; then checks that nothing is held. `outcome` checks each call's result.
 */
async function exercise(
  mc: { close(): Promise<void> },
  nodes: FakeServer[],
  call: (i: number) => Promise<unknown>,
  outcome: (result: unknown, i: number) => void,
  calls = CALLS,
  bound = POOL * nodes.length,
): Promise<void> {
  const before = socketFds();
  const totalBefore = fds().total;
  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, socketFds() - before)), 5);
  try {
    for (let i = 0; i < calls; i++) {
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        call(i).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), 3000))),
      ]).finally(() => clearTimeout(timer));
      assert.notEqual(result, 'stuck', `call ${i + 1} of ${calls} got no answer in 3 s: an earlier body holds the pool's sockets`);
      outcome(result, i);
    }
  } finally {
    clearInterval(watch);
  }
  assert.ok(most <= bound, `${most} sockets at once to ${nodes.length} node(s), the pool allows ${bound}`);
  // Sockets settle a few ms after the last answer; a held body never does.
  let held: Array<{ state: string; rxQueue: number }> = [];
  for (let t = 0; t < 40; t++) {
    held = nodes.flatMap(socketsTo).filter((s) => s.rxQueue > 0 || s.state === 'CLOSE_WAIT');
    if (held.length === 0) break;
    await sleep(50);
  }
  assert.deepEqual(held, [], 'sockets holding an unread body after the calls');
  await mc.close();
  for (let t = 0; t < 20 && socketFds() > before; t++) await sleep(50); // fds close a tick after destroy()
  assert.ok(socketFds() <= before, `close() left ${socketFds() - before} socket fds open`);
  assert.ok(fds().total <= totalBefore, `the calls left ${fds().total - totalBefore} fds open (of any kind)`);
}

type Result = { value?: unknown; error?: unknown };
const value = (expected: unknown) => (r: unknown) => assert.deepEqual((r as Result).value, expected, String((r as Result).error));
const rejects = (type: new (...a: never[]) => Error, check: (e: any) => void = () => undefined) => (r: unknown) => {
  const { error } = r as Result;
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  check(error);
};

describe('every answer path releases its 1 MiB body', { timeout: 60_000 }, () => {
  it('2xx with a body, read as JSON', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.getUser('big-json'), (r) => assert.equal((r as { value: { name: string } }).value.name, 'big-json'));
  });

  it('2xx with a body nobody needs (PUT answered 201 and 1 MiB): dumped', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.putUser('created-with-body', { password: 'x' }), value('created'));
  });

  it('2xx without a body (204)', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.putUser('no-body', { password: 'x' }), value('existed'));
  });

  it('404 with a 1 MiB body, declared: null', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.getUser('missing'), value(null));
  });

  it('404 with a 1 MiB chunked body: null', async () => {
    const f = funnel();
    await exercise(
      f,
      [nodeA],
      () => f.request({ method: 'GET', path: '/api/users/missing-chunked', template: '/api/users/{}', ok: [200, 404], read: 'json' }, (r) => r.status),
      value(404),
    );
  });

  it('409 with a 1 MiB error body: a typed ManagementError, the body not read past its bound', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.putUser('conflict', { password: 'x' }), rejects(ManagementError, (e) => assert.equal(e.status, 409)));
  });

  it('503 with a 1 MiB body before a failover to the other node', async () => {
    const mc = client([nodeA, nodeB]);
    await exercise(mc, [nodeA, nodeB], () => mc.getUser('flaky'), (r) => assert.equal((r as { value: { name: string } }).value.name, 'flaky'));
    assert.equal(mc.stats().counters.failovers, CALLS, 'every call met a 503 first');
  });

  it('DELETE answered 404 with a 1 MiB body: false', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.deleteUser('missing'), value(false));
  });

  it('DELETE answered 200 with a 1 MiB body: dumped', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.closeUserConnections('someone'), value(undefined));
  });

  it('non-JSON 2xx (1 MiB of HTML): ManagementProtocolError', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.overview(), rejects(ManagementProtocolError, (e) => assert.match(e.message, /not valid JSON/)));
  });

  it('truncated: 512 KiB of 2 MiB, then the socket is cut: unavailable after its retries', async () => {
    const mc = client();
    await exercise(mc, [nodeA], () => mc.getUser('truncated'), rejects(ManagementUnavailableError, (e) => assert.equal(e.attempts, 2)));
  });

  it('aborted by the caller while the body streams', async () => {
    const f = funnel();
    await exercise(
      f,
      [nodeA],
      () => f.request({ method: 'GET', path: '/api/users/stalls', template: '/api/users/{}', ok: [200], read: 'json', signal: AbortSignal.timeout(100) }),
      (r) => assert.match(String((r as Result).error), /abort|timeout/i),
    );
  });

  it('timed out: the body stalls past the body timeout', async () => {
    // A node that stalled is left to the health probe, so each call gets a client of its own
    // (all kept open to the end): every call then really waits on a stalled body. Each client
    // may keep the one socket its probe used, so the bound is one per client.
    const each: ManagementClient[] = [];
    const all = { close: async () => void (await Promise.all(each.map((c) => c.close()))) };
    await exercise(
      all,
      [nodeA],
      () => {
        const mc = client();
        each.push(mc);
        return mc.getUser('stalls');
      },
      rejects(ManagementUnavailableError, (e) => assert.match(e.message, /UND_ERR_BODY|ATTEMPT_TIMEOUT/)),
      POOL + 1,
      POOL + 1,
    );
  });

  it('8 callers at once on one node: they queue for the pool, never more sockets than it allows', async () => {
    const mc = client();
    await exercise(
      mc,
      [nodeA],
      () => Promise.all(Array.from({ length: 8 }, () => mc.getUser('big-json'))),
      (r) => assert.equal((r as { value: Array<{ name: string }> }).value.length, 8),
    );
  });

  it('all paths mixed, 4 callers at once: never more sockets than the pool allows', async () => {
    const mc = client([nodeA, nodeB]);
    const paths: Array<() => Promise<unknown>> = [
      () => mc.getUser('big-json'),
      () => mc.getUser('missing'),
      () => mc.deleteUser('missing'),
      () => mc.putUser('conflict', { password: 'x' }),
      () => mc.putUser('created-with-body', { password: 'x' }),
      () => mc.overview(),
      () => mc.getUser('flaky'),
      () => mc.getUser('truncated'),
      () => mc.closeUserConnections('someone'),
    ];
    await exercise(
      mc,
      [nodeA, nodeB],
      (i) => Promise.all(Array.from({ length: 4 }, (_, k) => paths[(i * 4 + k) % paths.length]!().catch((e: unknown) => e))),
      () => undefined,
    );
    assert.ok(mc.stats().nodes.every((n) => n.connected === 0 && n.running === 0), JSON.stringify(mc.stats().nodes));
  });
});
