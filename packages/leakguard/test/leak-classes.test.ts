// The leak classes, diff and peer filter on synthetic snapshots: what counts as a leak, what
// does not (busy or closing sockets, one-sample blips, leaks older than the baseline).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compilePeerFilter,
  diffSnapshots,
  findLeaks,
  leakCandidates,
  rememberSockets,
  summarizeSockets,
  type Snapshot,
  type SocketInfo,
} from '../src/index.ts';
import { describeSettleFailure } from '../src/settle.ts';

const SERVER = '127.0.0.1:8080';

function sock(inode: number, state: SocketInfo['state'], rxQueue = 0, peer = SERVER): SocketInfo {
  const [address, port] = [peer.slice(0, peer.lastIndexOf(':')), Number(peer.slice(peer.lastIndexOf(':') + 1))];
  return {
    inode,
    proto: 'tcp',
    state,
    local: `127.0.0.1:${40000 + inode}`,
    remote: peer,
    localPort: 40000 + inode,
    remotePort: port,
    txQueue: 0,
    rxQueue,
    direction: 'out',
    peer: `${address}:${port}`,
  };
}

function snap(timestamp: number, sockets: SocketInfo[], ghostInodes: number[] = [], extraFds = 0): Snapshot {
  const socketFds = sockets.length + ghostInodes.length;
  return {
    timestamp,
    pid: 4242,
    fdAccess: 'ok',
    fds: { socket: socketFds, pipe: 2, file: 3 + extraFds, anon_inode: 1, other: 0, total: socketFds + 6 + extraFds },
    limits: { soft: 1024, hard: 4096 },
    sockets,
    ghostInodes,
  };
}

describe('close-wait', () => {
  test('a socket in CLOSE_WAIT in every sample is a leak, grouped by peer', () => {
    const report = findLeaks([snap(0, [sock(1, 'CLOSE_WAIT', 500), sock(2, 'CLOSE_WAIT')]), snap(500, [sock(1, 'CLOSE_WAIT', 500), sock(2, 'CLOSE_WAIT')])]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.counts, { 'close-wait': 2, 'stuck-rx': 0, ghost: 0 });
    assert.deepEqual(report.groups.map((g) => [g.leakClass, g.peer, g.direction, g.count, g.rxBytes]), [['close-wait', SERVER, 'out', 2, 500]]);
  });

  test('one that gets closed between samples is not', () => {
    const report = findLeaks([snap(0, [sock(1, 'CLOSE_WAIT')]), snap(500, [])]);
    assert.equal(report.ok, true);
  });

  test('a stuck socket that turns CLOSE_WAIT counts once, as close-wait', () => {
    const report = findLeaks([snap(0, [sock(1, 'ESTABLISHED', 4096)]), snap(500, [sock(1, 'CLOSE_WAIT', 4096)])]);
    assert.deepEqual(report.counts, { 'close-wait': 1, 'stuck-rx': 0, ghost: 0 });
  });
});

describe('stuck-rx', () => {
  test('unread bytes that stay across two samples are a leak', () => {
    const report = findLeaks([snap(0, [sock(1, 'ESTABLISHED', 65536)]), snap(500, [sock(1, 'ESTABLISHED', 65536)])]);
    assert.deepEqual(report.counts, { 'close-wait': 0, 'stuck-rx': 1, ghost: 0 });
    assert.equal(report.groups[0]?.rxBytes, 65536);
  });

  test('needs two samples: one sample cannot tell stuck from busy', () => {
    const report = findLeaks([snap(0, [sock(1, 'ESTABLISHED', 65536)])]);
    assert.equal(report.stuckRxJudged, false);
    assert.equal(report.ok, true);
    assert.equal(leakCandidates(snap(0, [sock(1, 'ESTABLISHED', 65536)])).counts['stuck-rx'], 1, 'but it is a candidate');
  });

  test('a queue that shrinks or empties is being read: not a leak', () => {
    assert.equal(findLeaks([snap(0, [sock(1, 'ESTABLISHED', 65536)]), snap(500, [sock(1, 'ESTABLISHED', 1000)])]).ok, true);
    assert.equal(findLeaks([snap(0, [sock(1, 'ESTABLISHED', 65536)]), snap(500, [sock(1, 'ESTABLISHED', 0)])]).ok, true);
    assert.equal(findLeaks([snap(0, [sock(1, 'ESTABLISHED', 0)]), snap(500, [sock(1, 'ESTABLISHED', 0)])]).ok, true);
  });

  test('TIME_WAIT, LISTEN and idle sockets are never leaks', () => {
    const quiet = [sock(1, 'TIME_WAIT'), sock(2, 'LISTEN', 3), sock(3, 'ESTABLISHED'), sock(4, 'FIN_WAIT2')];
    assert.equal(findLeaks([snap(0, quiet), snap(500, quiet)]).ok, true);
    assert.equal(summarizeSockets(snap(0, quiet)).byState.TIME_WAIT, undefined, 'TIME_WAIT is left out of summaries');
  });
});

describe('ghost', () => {
  test('a socket fd missing from the tables in every sample is a ghost', () => {
    const report = findLeaks([snap(0, [], [77]), snap(500, [], [77])]);
    assert.deepEqual(report.groups.map((g) => [g.leakClass, g.peer, g.count]), [['ghost', 'unknown', 1]]);
  });

  test('a socket caught between fd read and table read (one sample) is not', () => {
    assert.equal(findLeaks([snap(0, []), snap(500, [], [77])]).ok, true);
  });

  test('its peer is named when an earlier look saw it in a table', () => {
    const seen = rememberSockets(new Map(), snap(0, [sock(77, 'ESTABLISHED', 9000)]));
    const report = findLeaks([snap(500, [], [77]), snap(1000, [], [77])], { seen, peer: 8080 });
    assert.deepEqual(report.groups.map((g) => [g.leakClass, g.peer, g.direction, g.count]), [['ghost', SERVER, 'out', 1]]);
  });

  test('with a peer filter, ghosts of unknown peer are left out but counted aside', () => {
    const report = findLeaks([snap(0, [], [77]), snap(500, [], [77])], { peer: 8080 });
    assert.equal(report.ok, true);
    assert.equal(report.unattributedGhosts, 1);
  });

  test('rememberSockets forgets sockets the process no longer holds', () => {
    const seen = rememberSockets(new Map(), snap(0, [sock(1, 'ESTABLISHED'), sock(2, 'ESTABLISHED')]));
    rememberSockets(seen, snap(500, [sock(2, 'ESTABLISHED')]));
    assert.deepEqual([...seen.keys()], [2]);
  });
});

describe('baseline, peer filter, diff', () => {
  test('leaks already present in the baseline are not blamed', () => {
    const baseline = snap(0, [sock(1, 'CLOSE_WAIT')], [50]);
    const later = snap(500, [sock(1, 'CLOSE_WAIT'), sock(2, 'CLOSE_WAIT')], [50]);
    const report = findLeaks([later], { baseline });
    assert.deepEqual(report.groups.map((g) => g.inodes), [[2]]);
  });

  test('a peer filter matches a port or an address:port at either end', () => {
    const other = sock(3, 'CLOSE_WAIT', 0, '10.0.0.5:5672');
    const samples = [snap(0, [sock(1, 'CLOSE_WAIT'), other])];
    assert.deepEqual(findLeaks(samples, { peer: 8080 }).groups.map((g) => g.peer), [SERVER]);
    assert.deepEqual(findLeaks(samples, { peer: '10.0.0.5:5672' }).groups.map((g) => g.peer), ['10.0.0.5:5672']);
    assert.deepEqual(findLeaks(samples, { peer: [5672, '8080'] }).total, 2);
    assert.equal(findLeaks(samples, { peer: 40001 }).total, 1, 'local port matches too');
    assert.equal(compilePeerFilter('[::1]:5672')({ ...other, remote: '[::1]:5672' }), true);
    assert.throws(() => compilePeerFilter('http'), RangeError);
    assert.throws(() => compilePeerFilter(70000), RangeError);
  });

  test('diff: fds by kind, sockets new and gone by peer and state', () => {
    const before = snap(0, [sock(1, 'ESTABLISHED'), sock(2, 'ESTABLISHED')]);
    const after = snap(700, [sock(2, 'CLOSE_WAIT'), sock(3, 'CLOSE_WAIT'), sock(4, 'ESTABLISHED', 0, '127.0.0.1:9090')], [], 1);
    const diff = diffSnapshots(before, after);
    assert.equal(diff.elapsedMs, 700);
    assert.deepEqual(diff.fds?.socket, { before: 2, after: 3, delta: 1 });
    assert.deepEqual(diff.fds?.total, { before: 8, after: 10, delta: 2 });
    assert.deepEqual(diff.socketsNew, [
      { peer: SERVER, direction: 'out', state: 'CLOSE_WAIT', count: 2 },
      { peer: '127.0.0.1:9090', direction: 'out', state: 'ESTABLISHED', count: 1 },
    ]);
    assert.deepEqual(diff.socketsGone, [{ peer: SERVER, direction: 'out', state: 'ESTABLISHED', count: 2 }]);
  });

  test('a settle failure message names peer, class and counts', () => {
    const baseline = snap(0, []);
    const last = snap(2000, [sock(1, 'CLOSE_WAIT', 2048), sock(2, 'CLOSE_WAIT'), sock(3, 'ESTABLISHED', 100)]);
    const report = findLeaks([snap(1900, last.sockets), last]);
    const message = describeSettleFailure({
      ok: false,
      pid: 4242,
      elapsedMs: 2000,
      samples: 20,
      report,
      fdGrowth: 3,
      allowedFdGrowth: 0,
      diff: diffSnapshots(baseline, last),
      last,
    });
    assert.match(message, /pid 4242/);
    assert.match(message, /2 close-wait sockets to 127\.0\.0\.1:8080 \(2\.0 KiB unread\)/);
    assert.match(message, /1 stuck-rx socket to 127\.0\.0\.1:8080/);
    assert.match(message, /fd growth \+3 \(socket \+3\) over the baseline, allowed \+0/);
  });
});
