// The OSBAPI listener against slow and abusive clients, on loopback, bounded in count and time:
// headers trickled (slowloris), a body trickled after good or bad credentials, oversized headers,
// and a connection flood past the cap. Each must be cut by the configured limit, and the broker
// must still answer a normal request afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startWarren, type RunningWarren } from '../../src/app/start-warren.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const LIMITS = { headers_timeout_ms: 1000, request_timeout_ms: 2000, idle_timeout_ms: 3000, max_header_bytes: 4096, max_connections: 40 };
const AUTH = 'Basic ' + Buffer.from('u:p').toString('base64');

interface Watched {
  socket: Socket;
  received: string;
  /** ms from open to the server closing the connection; undefined while open. */
  closedAfter?: number;
  closed: Promise<void>;
}

function open(port: number): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let done!: () => void;
    const w: Watched = { socket, received: '', closed: new Promise((r) => (done = r)) };
    socket.on('data', (d) => (w.received += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      w.closedAfter = Date.now() - started;
      done();
    });
    socket.once('connect', () => resolve(w));
    socket.once('error', reject);
  });
}

/** Writes `text` one character every `everyMs` until the server closes or `maxMs` passes. */
async function trickle(w: Watched, text: string, everyMs: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  for (const ch of text) {
    if (w.closedAfter !== undefined || Date.now() > until) return;
    w.socket.write(ch);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('listener limits', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-listener-'));
  let running: RunningWarren;
  let port: number;

  before(async () => {
    const config = loadConfig({ env: {} });
    running = await startWarren(
      { ...config, listen: { host: '127.0.0.1', port: 0 }, data_dir: dataDir, auth: { username: 'u', password: 'p' }, reconcile: { interval_s: 0, fix: false }, listener: LIMITS },
      pino({ level: 'silent' }),
    );
    port = running.port;
  });
  after(async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function stillAnswers(): Promise<void> {
    const res = await fetch(`${running.url}/v2/catalog`, { headers: { authorization: AUTH, 'x-broker-api-version': '2.17' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }

  it('cuts headers trickled slower than the headers timeout (slowloris)', async () => {
    const conns = await Promise.all(Array.from({ length: 10 }, () => open(port)));
    await Promise.all(conns.map((w) => trickle(w, `GET /v2/catalog HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}`, 100, 8000)));
    await Promise.all(conns.map((w) => w.closed));
    for (const w of conns) {
      assert.ok(w.closedAfter! <= LIMITS.headers_timeout_ms + 2000, `closed after ${w.closedAfter} ms`);
      assert.ok(w.closedAfter! >= LIMITS.headers_timeout_ms - 50, `not before the timeout (${w.closedAfter} ms)`);
    }
    await stillAnswers();
  });

  it('cuts a body trickled slower than the request timeout, with good credentials', async () => {
    const w = await open(port);
    const body = JSON.stringify({ service_id: 's', plan_id: 'p', organization_guid: 'o', space_guid: 's', pad: 'x'.repeat(200) });
    w.socket.write(`PUT /v2/service_instances/slow-body HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nX-Broker-API-Version: 2.17\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    await trickle(w, body, 100, 8000);
    await w.closed;
    assert.ok(w.closedAfter! <= LIMITS.request_timeout_ms + 2000, `closed after ${w.closedAfter} ms`);
    assert.doesNotMatch(w.received, /HTTP\/1\.1 20[01]/, 'nothing was provisioned');
    await stillAnswers();
  });

  it('answers 401 to a body trickled with bad credentials and closes the connection at once', async () => {
    const w = await open(port);
    w.socket.write(`PUT /v2/service_instances/slow-401 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\nX-Broker-API-Version: 2.17\r\nContent-Length: 5000\r\n\r\n{`);
    await trickle(w, 'x'.repeat(100), 100, 6000);
    await w.closed;
    assert.match(w.received, /^HTTP\/1\.1 401 /);
    assert.match(w.received, /connection: close/i);
    assert.ok(w.closedAfter! < 1500, `closed after ${w.closedAfter} ms, not kept open for the trickle`);
  });

  it('answers 431 to headers over the size limit', async () => {
    const w = await open(port);
    w.socket.write(`GET /v2/catalog HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nX-Big: ${'b'.repeat(LIMITS.max_header_bytes)}\r\n\r\n`);
    await w.closed;
    assert.match(w.received, /^HTTP\/1\.1 431 /);
    // 10,000 small headers: the same limit.
    const many = await open(port);
    let head = 'GET /v2/catalog HTTP/1.1\r\nHost: x\r\n';
    for (let i = 0; i < 10_000; i++) head += `X-H${i}: v\r\n`;
    many.socket.write(head + '\r\n');
    await many.closed;
    assert.match(many.received, /^HTTP\/1\.1 431 /);
    await stillAnswers();
  });

  it('refuses connections past the cap and serves again once they are gone', async () => {
    const flood: Watched[] = [];
    for (let i = 0; i < LIMITS.max_connections + 30; i++) flood.push(await open(port));
    await new Promise((r) => setTimeout(r, 300));
    const dropped = flood.filter((w) => w.closedAfter !== undefined).length;
    assert.ok(dropped >= 30, `${dropped} of ${flood.length} dropped (cap ${LIMITS.max_connections})`);
    for (const w of flood) w.socket.destroy();
    await Promise.all(flood.map((w) => w.closed));
    await new Promise((r) => setTimeout(r, 100));
    await stillAnswers();
  });

  it('closes an idle connection after the idle timeout', async () => {
    const w = await open(port);
    await w.closed;
    assert.ok(w.closedAfter! <= LIMITS.idle_timeout_ms + 1000, `closed after ${w.closedAfter} ms`);
  });
});
