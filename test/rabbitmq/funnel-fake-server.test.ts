// Error paths real RabbitMQ cannot produce on demand, against a tiny local HTTP server:
// invalid JSON in a 200, oversized bodies (declared and chunked), a non-JSON error body, an
// abort while the body streams, and close() waiting for an in-flight call. Each also checks
// that the socket did not outlive the call.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  createManagementClient,
  ManagementError,
  ManagementProtocolError,
  ManagementUnavailableError,
  type ManagementClient,
} from '../../src/rabbitmq/index.ts';
import { parseNodes, resolveOptions } from '../../src/rabbitmq/options.ts';
import { RequestFunnel } from '../../src/rabbitmq/request-funnel.ts';
import { startFake } from './helpers/fake-http.ts';
import { closeWait, eventually, socketsTo } from './helpers/proc-sockets.ts';

const MiB = 1024 * 1024;
let releaseSlow: () => void = () => undefined;

const fake = await startFake((req, res) => {
  switch (req.url) {
    case '/api/overview': // 200 with a body that is not JSON
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"rabbitmq_version": "3.10.8", oops');
      return;
    case '/api/users/declared-big': // Content-Length over the bound: refused before reading
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * MiB) });
      res.write('[' + ' '.repeat(64 * 1024));
      return; // never finishes: the client must not wait for it
    case '/api/users/chunked-big': // no Content-Length, grows past the bound
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 24; i++) res.write('"' + 'x'.repeat(64 * 1024) + '",');
      res.end('""]');
      return;
    case '/api/users/html-error':
      res.writeHead(400, { 'content-type': 'text/html' }).end('<html><body>Bad Request</body></html>');
      return;
    case '/api/users/stalls': // headers and part of the body, then nothing
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write('{"name":"');
      return;
    case '/api/users/slow': // answers when the test says so
      releaseSlow = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"slow","tags":[]}');
      return;
    default:
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Object Not Found","reason":"Not Found"}');
  }
});

const clients: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of clients) await c.close();
  await fake.close();
});

function fakeClient(extra: Record<string, unknown> = {}): ManagementClient {
  const c = createManagementClient({ urls: [fake.url], username: 'u', password: 'p', maxBodyBytes: 1 * MiB, ...extra });
  clients.push(c);
  return c;
}

async function noSocketsLeft(): Promise<void> {
  assert.ok(await eventually(() => socketsTo(fake.port).every((s) => s.rxQueue === 0)), 'a socket holds unread bytes');
  assert.deepEqual(closeWait(), []);
}

it('invalid JSON in a 200: ManagementProtocolError, not retried', async () => {
  const mc = fakeClient();
  const err = await mc.overview().catch((e: unknown) => e);
  assert.ok(err instanceof ManagementProtocolError, String(err));
  assert.equal(err.status, 200);
  assert.match(err.message, /not valid JSON/);
  assert.equal(mc.stats().counters.attempts, 1);
  await noSocketsLeft();
});

it('a declared body over maxBodyBytes is refused without reading it, and its socket closed', async () => {
  const mc = fakeClient();
  const err = await mc.getUser('declared-big').catch((e: unknown) => e);
  assert.ok(err instanceof ManagementProtocolError, String(err));
  assert.match(err.message, /exceeds 1048576 bytes/);
  assert.equal(mc.stats().counters.bodyBytesRead, 0);
  assert.ok(await eventually(() => mc.stats().nodes[0]!.connected === 0), 'the half-read socket was not closed');
  await noSocketsLeft();
});

it('a chunked body growing over maxBodyBytes stops being read at the bound', async () => {
  const mc = fakeClient();
  const err = await mc.getUser('chunked-big').catch((e: unknown) => e);
  assert.ok(err instanceof ManagementProtocolError, String(err));
  assert.ok(mc.stats().counters.bodyBytesRead <= 1 * MiB);
  await noSocketsLeft();
});

it('an error status with a non-JSON body is still a typed ManagementError', async () => {
  const mc = fakeClient();
  const err = await mc.getUser('html-error').catch((e: unknown) => e);
  assert.ok(err instanceof ManagementError, String(err));
  assert.equal(err.status, 400);
  assert.equal(err.reason, '(error body is not JSON)');
  await noSocketsLeft();
});

it('a caller abort while the body streams rejects at once and closes that socket', async () => {
  const opts = { urls: [fake.url], username: 'u', password: 'p' };
  const funnel = new RequestFunnel(parseNodes(opts), resolveOptions(opts), {});
  clients.push(funnel);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const t0 = Date.now();
  const err = await funnel
    .request({ method: 'GET', path: '/api/users/stalls', template: '/api/users/{}', ok: [200], read: 'json', signal: ac.signal })
    .catch((e: unknown) => e);
  assert.equal((err as Error).name, 'AbortError');
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(funnel.stats().counters.attempts, 1, 'an abort is not retried');
  assert.ok(await eventually(() => funnel.stats().nodes[0]!.connected === 0));
  await noSocketsLeft();
});

it('a body that stalls hits the body timeout: a transport failure, the node is down, not asked again in this call', async () => {
  const mc = fakeClient({ bodyTimeoutMs: 200, retry: { maxRounds: 2, baseDelayMs: 5, maxDelayMs: 5 } });
  const err = await mc.getUser('stalls').catch((e: unknown) => e);
  assert.ok(err instanceof ManagementUnavailableError, String(err));
  assert.equal(err.attempts, 1);
  assert.equal(mc.nodeHealth()[0]?.state, 'down');
  assert.equal(mc.stats().counters.transportErrors['UND_ERR_BODY_TIMEOUT'], 1);
  await noSocketsLeft();
});

it('close() waits for the in-flight call, then refuses new ones', async () => {
  const mc = createManagementClient({ urls: [fake.url], username: 'u', password: 'p' });
  const inflight = mc.getUser('slow');
  await eventually(() => mc.stats().nodes[0]!.running === 1);
  let closed = false;
  const closing = mc.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'close() returned while a call was in flight');
  await assert.rejects(mc.getUser('x'), ManagementUnavailableError);
  releaseSlow();
  assert.deepEqual(await inflight, { name: 'slow', tags: [] });
  await closing;
  assert.equal(mc.stats().nodes[0]!.connected, 0);
});

it('a real pino logger fits the logger option; debug lines carry no credentials', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  const logger = pino({ level: 'debug' }, sink);
  const mc = fakeClient({ logger, username: 'admin', password: 'Pino-S3cret' });
  await mc.putUser('someone', { password: 'User-S3cret' }).catch(() => undefined);
  await mc.getUser('nobody');
  assert.ok(lines.length >= 2);
  const all = lines.join('');
  assert.match(all, /"pathTemplate":"\/api\/users\/\{\}"/);
  for (const secret of ['Pino-S3cret', 'User-S3cret', Buffer.from('admin:Pino-S3cret').toString('base64')]) {
    assert.ok(!all.includes(secret), `log contains ${secret}`);
  }
});
