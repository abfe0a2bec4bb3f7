// The other side of a leak: a server that accepts connections and never reads, answers or
// closes them. Guarding the server's pid must show stuck-rx, then close-wait, on its own
// listening address (the clients' ephemeral ports are not useful names).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { findLeaks, runLeaksCli, takeSnapshot } from '../src/index.ts';
import { captureIo, killFixtures, startFixture, waitFor } from './helpers.ts';

const CONNECTIONS = 20;

describe('a server that never reads or closes', { timeout: 20_000 }, () => {
  const sockets: net.Socket[] = [];
  after(async () => {
    for (const s of sockets) s.destroy();
    await killFixtures();
  });

  test('requests it never reads are stuck-rx, hung-up clients leave it in CLOSE_WAIT', async () => {
    const server = startFixture('silent-server.mjs');
    const { port } = JSON.parse(await server.nextLine()) as { port: number };
    const endpoint = `127.0.0.1:${port}`;
    const baseline = takeSnapshot(server.pid);
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`.padEnd(4096, 'x'));
    }

    const stuck = await waitFor('stuck requests', () => {
      const report = findLeaks([takeSnapshot(server.pid), takeSnapshot(server.pid)], { peer: port, baseline });
      return report.counts['stuck-rx'] === CONNECTIONS ? report : undefined;
    });
    assert.deepEqual(stuck.groups.map((g) => [g.leakClass, g.peer, g.direction, g.count, g.rxBytes]), [
      ['stuck-rx', endpoint, 'in', CONNECTIONS, CONNECTIONS * 4096],
    ]);

    for (const s of sockets) s.end(); // the clients give up; the server never closes its ends
    const closeWait = await waitFor('CLOSE_WAIT on the server', () => {
      const report = findLeaks([takeSnapshot(server.pid), takeSnapshot(server.pid)], { peer: port, baseline });
      return report.counts['close-wait'] === CONNECTIONS ? report : undefined;
    });
    assert.deepEqual(closeWait.groups.map((g) => [g.leakClass, g.peer, g.direction, g.count]), [['close-wait', endpoint, 'in', CONNECTIONS]]);

    const { io, out } = captureIo();
    const status = await runLeaksCli(['--pid', String(server.pid), '--samples', '2', '--interval', '100'], io);
    assert.equal(status, 1);
    assert.match(out(), new RegExp(`${CONNECTIONS} close-wait sockets accepted on 127\\.0\\.0\\.1:${port} \\(80\\.0 KiB unread\\)`));
    assert.match(out(), new RegExp(`127\\.0\\.0\\.1:${port}\\s+in\\s+${CONNECTIONS}\\s`), 'by-peer row for the accepted connections');
    assert.match(out(), new RegExp(`127\\.0\\.0\\.1:${port}\\s+listen\\s+1\\s`), 'and the listener');
  });
});
