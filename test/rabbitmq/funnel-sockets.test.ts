// The funnel owns every body: after thousands of calls mixing 2xx, 204, 404, 400, big bodies,
// dumped bodies and a parse step that throws, this process holds no more sockets to the
// management port than the pools allow, none in CLOSE_WAIT and none with unread bytes.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Agent, request } from 'undici';
import { ManagementError, ManagementProtocolError } from '../../src/rabbitmq/index.ts';
import { parseNodes, resolveOptions } from '../../src/rabbitmq/options.ts';
import { RequestFunnel } from '../../src/rabbitmq/request-funnel.ts';
import { ADMIN_PASS, ADMIN_USER, MGMT_PORT, MGMT_URL, adminClient, uniq, urlWithCredentials } from './helpers/env.ts';
import { closeWait, eventually, socketsTo } from './helpers/proc-sockets.ts';

const POOL = 4;
const opts = { urls: [urlWithCredentials()], connectionsPerNode: POOL };
const mc = adminClient({ connectionsPerNode: POOL });
const funnel = new RequestFunnel(parseNodes(opts), resolveOptions(opts), {});
const vhost = uniq('big-vh');
const user = uniq('sock-user');
// A 150 KB description: GET /api/vhosts/{vh} answers ~300 KB (it is repeated in metadata),
// far more than socket buffers hold, so an unread body would stay stuck on its socket.
const DESCRIPTION = 'd'.repeat(150_000);
const enc = encodeURIComponent;

before(async () => {
  await mc.putVhost(vhost, { description: DESCRIPTION });
  await mc.putUser(user, { password: 'x' });
});

after(async () => {
  await mc.deleteUser(user);
  await mc.deleteVhost(vhost);
  await mc.close();
  await funnel.close();
});

const fdCount = (): number => readdirSync('/proc/self/fd').length;

it('the probe sees a leak: raw undici with unread 300 KB bodies keeps sockets stuck with unread bytes', async () => {
  const agent = new Agent({ connections: null });
  const auth = 'Basic ' + Buffer.from(`${ADMIN_USER}:${ADMIN_PASS}`).toString('base64');
  const before = socketsTo(MGMT_PORT).length;
  try {
    for (let i = 0; i < 12; i++) {
      // Deliberately wrong: the body is never read.
      await request(`${MGMT_URL}/api/vhosts/${enc(vhost)}`, { dispatcher: agent, headers: { authorization: auth } });
    }
    const stuck = socketsTo(MGMT_PORT).filter((s) => s.rxQueue > 0);
    assert.ok(socketsTo(MGMT_PORT).length - before >= 12, 'every unread response should hold its own socket');
    assert.ok(stuck.length >= 10, `expected sockets with unread bytes, saw ${stuck.length}`);
  } finally {
    await agent.destroy();
  }
});

it('2000 mixed calls leave at most the pool size of sockets, none in CLOSE_WAIT, none unread', { timeout: 20_000 }, async () => {
  const fdsBefore = fdCount();
  const missingVhost = uniq('missing');
  const counts = { ok: 0, created: 0, notFound: 0, badRequest: 0, protocol: 0, big: 0 };
  const calls: Array<() => Promise<void>> = [
    async () => void (await mc.getUser(user), counts.ok++), // 200 JSON
    async () => void ((await mc.putUser(user, { password: 'x' })) === 'existed' && counts.created++), // 204
    async () => void ((await mc.getUser(user + '-missing')) === null && counts.notFound++), // 404 -> null
    async () => void ((await mc.deleteUser(user + '-missing')) === false && counts.notFound++), // 404 -> false
    async () => {
      // 400 with an error body
      await mc.putPermissions(missingVhost, user, { configure: '', write: '', read: '' }).catch((e: unknown) => {
        assert.ok(e instanceof ManagementError && e.status === 400);
        counts.badRequest++;
      });
    },
    async () => void (await mc.overview(), counts.ok++), // 200, ~2 KB
    async () => {
      // 200, ~300 KB, read and parsed
      if ((await mc.getVhost(vhost))?.description === DESCRIPTION) counts.big++;
    },
    async () => {
      // 200, ~300 KB, the caller's parse step throws after the funnel consumed the body
      await funnel
        .request({ method: 'GET', path: `/api/vhosts/${enc(vhost)}`, template: '/api/vhosts/{}', ok: [200], read: 'json' }, () => {
          throw new Error('caller does not like it');
        })
        .catch((e: unknown) => {
          assert.ok(e instanceof ManagementProtocolError);
          counts.protocol++;
        });
    },
    async () => {
      // 200, ~300 KB, not needed: dumped (past the dump bound the socket is closed, not left)
      await funnel.request({ method: 'GET', path: `/api/vhosts/${enc(vhost)}`, template: '/api/vhosts/{}', ok: [200], read: 'dump' });
      counts.ok++;
    },
  ];
  const TOTAL = 2000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      // Big bodies are 1 call in 8 (three kinds rotate), small ones the rest.
      const pick = i % 8 === 7 ? 6 + ((i >> 3) % 3) : i % 6;
      await calls[pick]!();
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));

  assert.ok(counts.big > 0 && counts.protocol > 0 && counts.badRequest > 0 && counts.notFound > 0 && counts.created > 0);
  const settled = await eventually(() => {
    const s = socketsTo(MGMT_PORT);
    return s.length <= 2 * POOL && s.every((x) => x.rxQueue === 0);
  });
  const now = socketsTo(MGMT_PORT);
  assert.ok(settled, `sockets to ${MGMT_PORT}: ${JSON.stringify(now)}`);
  assert.deepEqual(closeWait(), [], 'sockets in CLOSE_WAIT');
  const st = mc.stats();
  assert.equal(st.counters.transportErrors['UND_ERR_SOCKET'] ?? 0, 0);
  assert.ok(st.nodes[0]!.connected <= POOL);
  assert.ok(fdCount() <= fdsBefore + 2 * POOL, `fds grew from ${fdsBefore} to ${fdCount()}`);
});

it('after close(), no socket to the management port is left', async () => {
  const others = new Set(socketsTo(MGMT_PORT).map((s) => s.inode)); // the other clients' sockets
  const extra = adminClient({ connectionsPerNode: 3 });
  await Promise.all(Array.from({ length: 30 }, () => extra.getUser(user)));
  const opened = socketsTo(MGMT_PORT).filter((s) => !others.has(s.inode));
  assert.ok(opened.length > 0 && opened.length <= 3, `opened ${opened.length}`);
  await extra.close();
  assert.equal(extra.stats().nodes[0]!.connected, 0);
  assert.ok(await eventually(() => socketsTo(MGMT_PORT).filter((s) => !others.has(s.inode)).length === 0));
  await assert.rejects(extra.getUser(user), /closed/);
});
