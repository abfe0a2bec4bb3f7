// Parsers of the /proc formats, on recorded and synthetic text (formats as measured in
// /work/shared/notes/sockets-and-fds.md).
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, test } from 'node:test';
import {
  classifyFdLink,
  decodeProcAddress,
  formatIpv6,
  parseNofileLimits,
  parseProcNetTcp,
  snapshotFromTexts,
  tallyFdLinks,
} from '../src/index.ts';

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function tcpRow(sl: number, local: string, remote: string, st: string, queues: string, inode: number, uid = 1000): string {
  return `${String(sl).padStart(4)}: ${local} ${remote} ${st} ${queues} 00:00000000 00000000  ${String(uid).padStart(4)}        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
}

// Recorded on this kind of host (little-endian): 127.0.0.1:36448 → 127.0.0.1:8080, CLOSE_WAIT
// with 192512 unread bytes; a listener; a TIME_WAIT (inode 0).
const TCP =
  TCP_HEADER +
  tcpRow(0, '0100007F:1F90', '00000000:0000', '0A', '00000000:00000080', 5002) +
  tcpRow(1, '0100007F:8E60', '0100007F:1F90', '08', '00000000:0002F000', 5001) +
  tcpRow(2, '0100007F:8E61', '0100007F:1F90', '06', '00000000:00000000', 0);
const TCP6 =
  TCP6_HEADER +
  tcpRow(0, '0000000000000000FFFF00000100007F:1F90', '0000000000000000FFFF00000100007F:8E62', '01', '00000010:00001000', 6001) +
  tcpRow(1, '00000000000000000000000001000000:1628', '00000000000000000000000001000000:D431', '01', '00000000:00000000', 6002);
const UNIX =
  'Num       RefCount Protocol Flags    Type St Inode Path\n' +
  '0000000008af77b4: 00000002 00000000 00010000 0001 01  7001 /run/a socket with spaces\n' +
  '0000000071570653: 00000003 00000000 00000000 0001 03  7003\n';
const UDP6 =
  TCP6_HEADER.trimEnd() + ' ref pointer drops\n' +
  '  0: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 7002 2 0000000000000000 0\n';

const le = endianness() === 'LE';

describe('addresses in /proc/net/tcp{,6}', { skip: !le && 'recorded inputs are little-endian' }, () => {
  test('IPv4 words are little-endian, ports plain hex', () => {
    assert.equal(decodeProcAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeProcAddress('0101A8C0'), '192.168.1.1');
    assert.equal(decodeProcAddress('00000000'), '0.0.0.0');
  });

  test('IPv6 is four such words; v4-mapped comes out as plain IPv4', () => {
    assert.equal(decodeProcAddress('00000000000000000000000001000000'), '::1');
    assert.equal(decodeProcAddress('00000000000000000000000000000000'), '::');
    assert.equal(decodeProcAddress('0000000000000000FFFF00000100007F'), '127.0.0.1');
    assert.equal(decodeProcAddress('B80D0120000000000000000001000000'), '2001:db8::1');
    assert.equal(decodeProcAddress('000080FE00000000FF27000AA1664EFE'), 'fe80::a00:27ff:fe4e:66a1');
  });

  test('RFC 5952 text: the first longest zero run is shortened, single zeros are not', () => {
    const v6 = (...groups: number[]) => formatIpv6(groups.flatMap((g) => [g >> 8, g & 0xff]));
    assert.equal(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1');
    assert.equal(v6(0x2001, 0, 0, 1, 0, 0, 0, 1), '2001:0:0:1::1');
    assert.equal(v6(1, 0, 2, 0, 3, 0, 4, 0), '1:0:2:0:3:0:4:0');
    assert.equal(v6(0, 0, 0, 0, 0, 0, 0, 0), '::');
    assert.equal(v6(1, 0, 0, 0, 0, 0, 0, 0), '1::');
  });
});

describe('parseProcNetTcp', { skip: !le && 'recorded inputs are little-endian' }, () => {
  test('decodes every state, endpoint, queue and inode', () => {
    const rows = parseProcNetTcp(TCP, 'tcp');
    assert.deepEqual(rows.map((r) => r.state), ['LISTEN', 'CLOSE_WAIT', 'TIME_WAIT']);
    assert.deepEqual(rows[1], {
      proto: 'tcp',
      state: 'CLOSE_WAIT',
      localAddress: '127.0.0.1',
      localPort: 36448,
      remoteAddress: '127.0.0.1',
      remotePort: 8080,
      txQueue: 0,
      rxQueue: 0x2f000,
      uid: 1000,
      inode: 5001,
    });
    assert.equal(rows[2]?.inode, 0, 'TIME_WAIT belongs to no process');
  });

  test('tcp6 rows: v4-mapped peers of a dual-stack socket and ::1', () => {
    const [mapped, loopback] = parseProcNetTcp(TCP6, 'tcp6');
    assert.equal(mapped?.localAddress, '127.0.0.1');
    assert.equal(mapped?.remotePort, 0x8e62);
    assert.equal(mapped?.txQueue, 16);
    assert.equal(mapped?.rxQueue, 4096);
    assert.equal(loopback?.remoteAddress, '::1');
    assert.equal(loopback?.localPort, 5672);
  });

  test('an inode filter keeps owned rows and every listener', () => {
    const rows = parseProcNetTcp(TCP, 'tcp', { inodes: new Set([5001]) });
    assert.deepEqual(rows.map((r) => r.inode), [5002, 5001]);
  });

  test('tolerates an empty table, a header only and a missing trailing newline', () => {
    assert.deepEqual(parseProcNetTcp('', 'tcp'), []);
    assert.deepEqual(parseProcNetTcp(TCP_HEADER, 'tcp'), []);
    assert.equal(parseProcNetTcp(TCP.trimEnd(), 'tcp').length, 3);
  });

  test('parses 20,000 rows quickly', (t) => {
    let text = TCP_HEADER;
    for (let i = 0; i < 20_000; i++) {
      const port = (1024 + i).toString(16).toUpperCase().padStart(4, '0');
      text += tcpRow(i, `0100007F:${port}`, '0100007F:1F90', i % 3 === 0 ? '08' : '01', '00000000:00000400', 100_000 + i);
    }
    const owned = new Set(Array.from({ length: 200 }, (_, i) => 100_000 + i * 7));
    parseProcNetTcp(text, 'tcp'); // warm-up
    let started = performance.now();
    const all = parseProcNetTcp(text, 'tcp');
    const fullMs = performance.now() - started;
    started = performance.now();
    const mine = parseProcNetTcp(text, 'tcp', { inodes: owned });
    const filteredMs = performance.now() - started;
    t.diagnostic(`20,000 rows: ${fullMs.toFixed(1)} ms all, ${filteredMs.toFixed(1)} ms for 200 owned inodes`);
    assert.equal(all.length, 20_000);
    assert.equal(all.filter((r) => r.state === 'CLOSE_WAIT').length, 6667);
    assert.equal(mine.length, 200);
    assert.ok(fullMs < 250, `full parse took ${fullMs} ms`);
    assert.ok(filteredMs < 100, `filtered parse took ${filteredMs} ms`);
  });
});

describe('fds and limits', () => {
  test('fd links are classified by kind and socket inodes collected', () => {
    assert.deepEqual(classifyFdLink('socket:[12345]'), { kind: 'socket', inode: 12345 });
    assert.deepEqual(classifyFdLink('pipe:[7]'), { kind: 'pipe' });
    assert.deepEqual(classifyFdLink('anon_inode:[eventpoll]'), { kind: 'anon_inode' });
    assert.deepEqual(classifyFdLink('/dev/null'), { kind: 'file' });
    assert.deepEqual(classifyFdLink('net:[4026531840]'), { kind: 'other' });
    const { counts, socketInodes } = tallyFdLinks(['socket:[1]', 'socket:[2]', 'pipe:[3]', '/tmp/x', 'anon_inode:bpf-map']);
    assert.deepEqual(counts, { socket: 2, pipe: 1, file: 1, anon_inode: 1, other: 0, total: 5 });
    assert.deepEqual(socketInodes, [1, 2]);
  });

  test('RLIMIT_NOFILE soft and hard, including unlimited', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max cpu time              unlimited            unlimited            seconds   \n' +
      'Max open files            1024                 524288               files     \n';
    assert.deepEqual(parseNofileLimits(limits), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseNofileLimits('Max open files            unlimited            unlimited            files\n'), {
      soft: 'unlimited',
      hard: 'unlimited',
    });
    assert.equal(parseNofileLimits('nothing here'), null);
  });
});

describe('joining sockets to a process (snapshotFromTexts)', { skip: !le && 'recorded inputs are little-endian' }, () => {
  const links = [
    'socket:[5001]', // tcp, outgoing, CLOSE_WAIT
    'socket:[6001]', // tcp6 (v4-mapped), accepted on the 127.0.0.1:8080 listener
    'socket:[7001]', // unix
    'socket:[7002]', // udp6
    'socket:[9999]', // in no table: a ghost
    'pipe:[11]',
    '/dev/null',
    'anon_inode:[eventpoll]',
    'net:[4026531840]',
  ];
  const snapshot = snapshotFromTexts(42, 1000, { fdLinks: links, tcp: TCP, tcp6: TCP6, other: { unix: UNIX, udp6: UDP6 } });

  test('counts fds by kind', () => {
    assert.equal(snapshot.fdAccess, 'ok');
    assert.deepEqual(snapshot.fds, { socket: 5, pipe: 1, file: 1, anon_inode: 1, other: 1, total: 9 });
  });

  test('keeps only the process’s TCP sockets, with direction and peer', () => {
    assert.deepEqual(
      snapshot.sockets.map((s) => [s.inode, s.state, s.direction, s.peer, s.local, s.remote]),
      [
        [5001, 'CLOSE_WAIT', 'out', '127.0.0.1:8080', '127.0.0.1:36448', '127.0.0.1:8080'],
        [6001, 'ESTABLISHED', 'in', '127.0.0.1:8080', '127.0.0.1:8080', '127.0.0.1:36450'],
      ],
    );
  });

  test('ghost classifier: only the socket fd absent from tcp, tcp6, unix and udp tables', () => {
    assert.deepEqual(snapshot.ghostInodes, [9999]);
    const withoutUnixTable = snapshotFromTexts(42, 1000, { fdLinks: links, tcp: TCP, tcp6: TCP6, other: { udp6: UDP6 } });
    assert.deepEqual(withoutUnixTable.ghostInodes, [7001, 9999], 'the unix table is what keeps unix sockets from being ghosts');
  });

  test('an unreadable fd table is reported as denied, never as zero fds', () => {
    const denied = snapshotFromTexts(42, 1000, { fdLinks: 'denied', tcp: TCP });
    assert.equal(denied.fdAccess, 'denied');
    assert.equal(denied.fds, null);
  });
});
