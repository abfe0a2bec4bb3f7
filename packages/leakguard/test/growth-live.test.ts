// The growth class against live processes, through the CLI: a slow fd leak and a slow
// socket-per-peer leak exit 1 naming them; a stable keep-alive pool, a burst that drains and a
// clean process exit 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runLeaksCli } from '../src/index.ts';
import { captureIo, killFixtures, startBodyServer, startFixture, type Fixture } from './helpers.ts';

type Mode = 'fd-leak' | 'socket-leak' | 'stable-pool' | 'burst' | 'clean';

describe('growth on live processes', { timeout: 60_000 }, () => {
  let url = '';
  let peer = '';
  before(async () => {
    const { port } = await startBodyServer(60_000); // long keep-alive: idle sockets stay open
    peer = `127.0.0.1:${port}`;
    url = `http://${peer}/small`;
  });
  after(killFixtures);

  async function start(mode: Mode): Promise<Fixture> {
    const f = startFixture('growth-client.mjs', [mode, url]);
    assert.equal(await f.nextLine(), 'ready');
    return f;
  }

  async function go(f: Fixture): Promise<void> {
    f.send('go');
    assert.equal(await f.nextLine(), 'started');
  }

  async function leaks(args: string[]): Promise<{ status: number; out: string }> {
    const { io, out, err } = captureIo();
    const status = await runLeaksCli(args, io);
    assert.equal(err(), '');
    return { status, out: out() };
  }

  test('a file opened every 50 ms: exit 1, file fds named with their rate', async () => {
    const f = await start('fd-leak');
    await go(f);
    const { status, out } = await leaks(['--pid', String(f.pid), '--samples', '5', '--interval', '400ms']);
    assert.equal(status, 1, out);
    assert.match(out, /leaks: growth 1\n/);
    assert.match(out, /growth: file fds \d+ → \d+ over [\d.]+ s \(\+\d+\/s\)/);
  });

  test('a new keep-alive agent per request, bodies read: exit 1, the peer named', async () => {
    const f = await start('socket-leak');
    await go(f);
    const { status, out } = await leaks(['--pid', String(f.pid), '--samples', '6', '--interval', '400ms']);
    assert.equal(status, 1, out);
    assert.match(out, new RegExp(`growth: ESTABLISHED sockets to ${peer.replace(/\./g, '\\.')} \\d+ → \\d+ over [\\d.]+ s \\(\\+\\d+(\\.\\d)?/s\\)`));
    assert.match(out, /growth: socket fds/);
    assert.doesNotMatch(out, /close-wait|stuck-rx|ghost \d/, 'no single socket is wrong: only growth tells');
  });

  test('--watch --count judges growth over the whole watch', async () => {
    const f = await start('fd-leak');
    await go(f);
    const { status, out } = await leaks(['--pid', String(f.pid), '--watch', '0.3', '--count', '5']);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 5);
    assert.equal(status, 1, out);
    assert.match(lines.at(-1)!, /leaks growth 1 \(growing: file fds \+\d+\.\d\/s\)/);
  });

  test('a stable keep-alive pool of 8, busy all along: exit 0', async () => {
    const f = await start('stable-pool');
    await go(f);
    const { status, out } = await leaks(['--pid', String(f.pid), '--samples', '6', '--interval', '400ms']);
    assert.equal(status, 0, out);
    assert.match(out, new RegExp(`${peer.replace(/\./g, '\\.')}\\s+out\\s+8\\s`), 'the pool is there, 8 sockets');
    assert.match(out, /leaks: none\n/);
  });

  test('a burst of 40 connections that drains: exit 0', async () => {
    const f = await start('burst');
    const run = leaks(['--pid', String(f.pid), '--samples', '6', '--interval', '400ms']);
    await go(f);
    const { status, out } = await run;
    assert.equal(status, 0, out);
  });

  test('a clean process: exit 0', async () => {
    const f = await start('clean');
    await go(f);
    const { status, out } = await leaks(['--pid', String(f.pid), '--samples', '5', '--interval', '300ms']);
    assert.equal(status, 0, out);
    assert.match(out, /leaks: none\n/);
  });
});
