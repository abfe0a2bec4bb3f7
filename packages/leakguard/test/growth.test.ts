// The growth class on synthetic windows: steady growth is a leak, a stable pool however large,
// a burst that drains, a one-time step and a small drift are not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeGrowth, findGrowth, findLeaks, isSteadyGrowth, type Snapshot, type SocketInfo } from '../src/index.ts';

function sock(inode: number, peer: string, state: SocketInfo['state'] = 'ESTABLISHED'): SocketInfo {
  const port = Number(peer.slice(peer.lastIndexOf(':') + 1));
  return {
    inode, proto: 'tcp', state, local: `127.0.0.1:${40000 + inode}`, remote: peer, localPort: 40000 + inode,
    remotePort: port, txQueue: 0, rxQueue: 0, direction: 'out', peer,
  };
}

/** A snapshot at t seconds with `files` file fds and `n` ESTABLISHED sockets to each peer. */
function snap(t: number, files: number, peers: Record<string, number> = {}): Snapshot {
  const sockets: SocketInfo[] = [];
  let inode = 1;
  for (const [peer, n] of Object.entries(peers)) for (let i = 0; i < n; i++) sockets.push(sock(inode++, peer));
  return {
    timestamp: t * 1000, pid: 7, fdAccess: 'ok',
    fds: { socket: sockets.length, pipe: 2, file: files, anon_inode: 3, other: 0, total: sockets.length + files + 5 },
    limits: { soft: 1024, hard: 4096 }, sockets, ghostInodes: [],
  };
}

describe('isSteadyGrowth', () => {
  const cases: Array<[string, number[], boolean]> = [
    ['rising every sample', [10, 30, 50, 70, 90, 110], true],
    ['rising slowly, with pauses, in both halves', [10, 10, 11, 12, 12, 13, 14], true],
    ['three samples, each higher', [0, 2, 4], true],
    ['a stable pool of 300', [300, 300, 300, 300, 300, 300], false],
    ['a pool jittering around 50', [50, 49, 51, 50, 52, 50], false],
    ['a burst that drains', [10, 60, 60, 40, 20, 10], false],
    ['a burst still draining at the end', [10, 30, 60, 80, 50, 40], false],
    ['a one-time step (a pool filling up)', [0, 8, 8, 8, 8, 8], false],
    ['a step late in the window', [5, 5, 5, 5, 5, 40], false],
    ['a drift below the minimum rise', [5, 6, 6, 7], false],
    ['two samples are never enough', [0, 100], false],
  ];
  for (const [name, series, expected] of cases) {
    test(`${name}: ${expected ? 'growth' : 'not growth'}`, () => assert.equal(isSteadyGrowth(series), expected, JSON.stringify(series)));
  }
  test('minIncrease raises the bar', () => {
    assert.equal(isSteadyGrowth([0, 2, 4], 5), false);
    assert.equal(isSteadyGrowth([0, 3, 6], 5), true);
  });
});

describe('findGrowth', () => {
  const rabbit = '127.0.0.1:15672';
  const db = '127.0.0.1:5432';

  test('names fds by kind with their rate', () => {
    const samples = [0, 1, 2, 3, 4, 5].map((t) => snap(t, 10 + 20 * t));
    const [finding, ...rest] = findGrowth(samples);
    assert.equal(rest.length, 0);
    assert.deepEqual(finding?.subject, { kind: 'fds', fdKind: 'file' });
    assert.equal(finding?.increase, 100);
    assert.equal(finding?.perSecond, 20);
    assert.equal(describeGrowth(finding!), 'growth: file fds 10 → 110 over 5.0 s (+20/s)');
  });

  test('names the peer and state of growing sockets, and leaves a stable pool beside it alone', () => {
    const samples = [0, 1, 2, 3, 4, 5].map((t) => snap(t, 10, { [rabbit]: 5 + 4 * t, [db]: 200 }));
    const growth = findGrowth(samples);
    const sockets = growth.filter((g) => g.subject.kind === 'sockets');
    assert.deepEqual(sockets.map((g) => g.subject), [{ kind: 'sockets', peer: rabbit, direction: 'out', state: 'ESTABLISHED' }]);
    assert.match(describeGrowth(sockets[0]!), /^growth: ESTABLISHED sockets to 127\.0\.0\.1:15672 5 → 25 over 5\.0 s \(\+4\.0\/s\)$/);
    assert.ok(growth.some((g) => g.subject.kind === 'fds' && g.subject.fdKind === 'socket'), 'socket fds grow too');
  });

  test('sockets moving from ESTABLISHED to CLOSE_WAIT are not growth; a total rising across states is', () => {
    const migrate = [0, 1, 2, 3, 4].map((t) => {
      const s = snap(t, 10);
      for (let i = 0; i < 40; i++) s.sockets.push(sock(i + 1, rabbit, i < 10 * t ? 'CLOSE_WAIT' : 'ESTABLISHED'));
      return s;
    });
    assert.deepEqual(findGrowth(migrate), []);
    const mixed = [0, 1, 2, 3, 4].map((t) => {
      const s = snap(t, 10);
      for (let i = 0; i < 4 * t; i++) s.sockets.push(sock(i + 1, rabbit, i % 2 === t % 2 ? 'CLOSE_WAIT' : 'ESTABLISHED'));
      return s;
    });
    const sockets = findGrowth(mixed).filter((g) => g.subject.kind === 'sockets');
    assert.ok(sockets.length >= 1);
    assert.ok(sockets.every((g) => g.subject.kind === 'sockets' && g.subject.peer === rabbit));
  });

  test('the peer filter keeps other peers out of socket growth', () => {
    const samples = [0, 1, 2, 3].map((t) => snap(t, 10, { [rabbit]: 5 * t }));
    assert.equal(findGrowth(samples, { peer: 5432 }).filter((g) => g.subject.kind === 'sockets').length, 0);
    assert.equal(findGrowth(samples, { peer: 15672 }).filter((g) => g.subject.kind === 'sockets').length, 1);
  });

  test('findLeaks reports growth and fails on it, only from three samples on', () => {
    const samples = [0, 1, 2].map((t) => snap(t, 10 + 5 * t));
    const report = findLeaks(samples);
    assert.equal(report.growthJudged, true);
    assert.equal(report.ok, false);
    assert.equal(report.total, 0, 'no socket class is involved');
    const two = findLeaks(samples.slice(0, 2));
    assert.equal(two.growthJudged, false);
    assert.equal(two.ok, true);
    assert.equal(findLeaks(samples, { growth: false }).ok, true);
  });

  test('a burst that drains and a large stable pool pass findLeaks', () => {
    const burst = [0, 1, 2, 3, 4].map((t, i) => snap(t, 10, { [rabbit]: [4, 60, 60, 30, 4][i]! }));
    assert.equal(findLeaks(burst).ok, true);
    const pool = [0, 1, 2, 3, 4].map((t) => snap(t, 10, { [rabbit]: 500 }));
    assert.equal(findLeaks(pool).ok, true);
  });
});
