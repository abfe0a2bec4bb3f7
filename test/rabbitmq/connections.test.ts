// Unbind-critical behaviour with a real AMQP connection opened as the created user: the client
// sees it in connection tracking, closeUserConnections and deleteUser both close it.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ChannelModel } from 'amqplib';
import { AMQP_HOST, AMQP_PORT, adminClient, uniq } from './helpers/env.ts';

const mc = adminClient();
const vhost = uniq('conn-vh') + '/ß';
const user = uniq('conn-user') + ' é';
const password = 'amqp-' + Math.random().toString(36).slice(2);
const open = new Set<ChannelModel>();

before(async () => {
  await mc.putVhost(vhost);
  await mc.putUser(user, { password });
  await mc.putPermissions(vhost, user, { configure: '.*', write: '.*', read: '.*' });
});

after(async () => {
  for (const c of open) await c.close().catch(() => undefined);
  await mc.deleteUser(user);
  await mc.deleteVhost(vhost);
  await mc.close();
});

/** Opens a connection as the test user; resolves `closed` when the server closes it. */
async function amqpAsUser(): Promise<{ conn: ChannelModel; closed: Promise<void> }> {
  const conn = await connect({ protocol: 'amqp', hostname: AMQP_HOST, port: AMQP_PORT, username: user, password, vhost });
  open.add(conn);
  conn.on('error', () => undefined); // CONNECTION_FORCED arrives as an error, then close
  const closed = new Promise<void>((resolve) => conn.once('close', () => (open.delete(conn), resolve())));
  return { conn, closed };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

async function waitForConnections(n: number): Promise<void> {
  const end = Date.now() + 3000;
  for (;;) {
    const list = await mc.listUserConnections(user);
    if (list.length === n) return;
    if (Date.now() > end) assert.fail(`expected ${n} tracked connection(s), got ${list.length}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('closeUserConnections closes a live connection and tracking becomes []', async () => {
  const { closed } = await amqpAsUser();
  await waitForConnections(1);
  const [ref] = await mc.listUserConnections(user);
  assert.equal(ref?.user, user);
  assert.equal(ref?.vhost, vhost);
  assert.ok(ref?.name);

  await mc.closeUserConnections(user, 'warren test: unbind');
  await within(closed, 3000, "connection 'close' after closeUserConnections");
  await waitForConnections(0);
  assert.deepEqual(await mc.listUserConnections(user), []);
});

it('statistics learn of a live tracked connection within their interval, and forget it once it closes', async () => {
  assert.equal(await mc.connectionInStatistics('127.0.0.1:1 -> 127.0.0.1:5672'), null, 'a name no connection has');
  const { conn, closed } = await amqpAsUser();
  await waitForConnections(1);
  const [ref] = await mc.listUserConnections(user);
  const end = Date.now() + 5000 + 1500; // collect_statistics_interval + the margin warren allows
  let known = await mc.connectionInStatistics(ref!.name);
  while (!known) {
    assert.ok(Date.now() < end, 'a live connection is still unknown to statistics');
    await new Promise((r) => setTimeout(r, 100));
    known = await mc.connectionInStatistics(ref!.name);
  }
  assert.deepEqual(known, { user }, 'statistics name the user it belongs to');
  await conn.close();
  await closed;
  await waitForConnections(0);
  assert.equal(await mc.connectionInStatistics(ref!.name), null, 'a closed connection is forgotten at once');
});

it('deleteUser closes the user\'s live connections by itself', async () => {
  const { closed } = await amqpAsUser();
  await waitForConnections(1);
  assert.equal(await mc.deleteUser(user), true);
  await within(closed, 3000, "connection 'close' after deleteUser");
  await waitForConnections(0);
  assert.deepEqual(await mc.listUserConnections(user), []);
  await assert.rejects(amqpAsUser(), 'a deleted user can still log in');
});
