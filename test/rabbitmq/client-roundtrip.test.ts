// Every ManagementClient method against the real RabbitMQ: what it writes, what it reads back,
// and the status semantics (created/existed, 404 -> null/false), with awkward names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, uniq } from './helpers/env.ts';
import { rawGet } from './helpers/raw-api.ts';

const mc = adminClient();
// '/', '%', '#', '?', spaces and non-ASCII in every name the API takes.
const vhost = uniq('vh') + '/ä %#?🐇';
const user = uniq('user') + '/ü %2F#?名';
const enc = encodeURIComponent;

after(async () => {
  await mc.deleteUser(user);
  await mc.deleteVhost(vhost);
  await mc.close();
});

describe('ManagementClient against RabbitMQ', () => {
  it('overview names the version and the AMQP listener', async () => {
    const o = await mc.overview();
    assert.match(o.rabbitmq_version, /^\d+\.\d+/);
    assert.ok(o.listeners.some((l) => l.protocol === 'amqp' && l.port > 0));
  });

  it('vhosts: created, existed, read back, deleted, then 404 semantics', async () => {
    assert.equal(await mc.getVhost(vhost), null);
    assert.equal(await mc.putVhost(vhost, { description: 'warren test', tags: ['a', 'b'] }), 'created');
    assert.equal(await mc.putVhost(vhost, { description: 'warren test', tags: ['a', 'b'] }), 'existed');
    const v = await mc.getVhost(vhost);
    assert.equal(v?.name, vhost);
    assert.equal(v?.description, 'warren test');
    assert.deepEqual(v?.tags, ['a', 'b']);
    const other = uniq('vh-del') + ' ✓';
    assert.equal(await mc.putVhost(other, { defaultQueueType: 'classic' }), 'created');
    assert.equal(await mc.deleteVhost(other), true);
    assert.equal(await mc.deleteVhost(other), false);
    assert.equal(await mc.getVhost(other), null);
  });

  it('the default vhost "/" is addressed as %2F', async () => {
    const v = await mc.getVhost('/');
    assert.equal(v?.name, '/');
  });

  it('users: created, existed (password replaced), tags, deleted, then 404 semantics', async () => {
    assert.equal(await mc.getUser(user), null);
    assert.equal(await mc.putUser(user, { password: 'pw-1' }), 'created');
    assert.deepEqual((await mc.getUser(user))?.tags, []);
    assert.equal(await mc.putUser(user, { password: 'pw-2', tags: ['management', 'monitoring'] }), 'existed');
    const u = await mc.getUser(user);
    assert.equal(u?.name, user);
    assert.deepEqual(u?.tags, ['management', 'monitoring']);
    const other = uniq('user-del') + ' ☃';
    assert.equal(await mc.putUser(other, { password: 'x' }), 'created');
    assert.equal(await mc.deleteUser(other), true);
    assert.equal(await mc.deleteUser(other), false);
    assert.equal(await mc.getUser(other), null);
  });

  it('permissions and topic permissions round-trip', async () => {
    const perms = { configure: '^cfg-.*', write: '^w-.*', read: '.*' };
    assert.equal(await mc.putPermissions(vhost, user, perms), 'created');
    assert.equal(await mc.putPermissions(vhost, user, perms), 'existed');
    const listed = await mc.listVhostPermissions(vhost);
    assert.deepEqual(listed.find((p) => p.user === user), { user, ...perms });

    const topic = { exchange: 'amq.topic', write: '^t\\.w', read: '^t\\.r' };
    assert.equal(await mc.putTopicPermissions(vhost, user, topic), 'created');
    assert.equal(await mc.putTopicPermissions(vhost, user, topic), 'existed');
    const raw = await rawGet(`/api/topic-permissions/${enc(vhost)}/${enc(user)}`);
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, [{ user, vhost, ...topic }]);

    assert.equal(await mc.deletePermissions(vhost, user), true);
    assert.equal(await mc.deletePermissions(vhost, user), false);
    assert.equal((await mc.listVhostPermissions(vhost)).some((p) => p.user === user), false);
  });

  it('vhost and user limits are set and removed (removing an absent limit is fine)', async () => {
    await mc.putVhostLimit(vhost, 'max-connections', 7);
    await mc.putVhostLimit(vhost, 'max-queues', 11);
    let raw = await rawGet(`/api/vhost-limits/${enc(vhost)}`);
    assert.deepEqual((raw.json as Array<{ value: unknown }>)[0]?.value, { 'max-connections': 7, 'max-queues': 11 });
    await mc.deleteVhostLimit(vhost, 'max-connections');
    await mc.deleteVhostLimit(vhost, 'max-connections');
    raw = await rawGet(`/api/vhost-limits/${enc(vhost)}`);
    assert.deepEqual((raw.json as Array<{ value: unknown }>)[0]?.value, { 'max-queues': 11 });

    await mc.putUserLimit(user, 'max-connections', 0);
    await mc.putUserLimit(user, 'max-channels', 3);
    raw = await rawGet(`/api/user-limits/${enc(user)}`);
    assert.deepEqual((raw.json as Array<{ value: unknown }>)[0]?.value, { 'max-connections': 0, 'max-channels': 3 });
    await mc.deleteUserLimit(user, 'max-connections');
    await mc.deleteUserLimit(user, 'max-channels');
    await mc.deleteUserLimit(user, 'max-channels');
    raw = await rawGet(`/api/user-limits/${enc(user)}`);
    assert.deepEqual(raw.json, []);
  });

  for (const kind of ['policy', 'operator policy'] as const) {
    it(`${kind}: created, existed, listed, deleted, then 404 -> false`, async () => {
      const put = kind === 'policy' ? mc.putPolicy.bind(mc) : mc.putOperatorPolicy.bind(mc);
      const del = kind === 'policy' ? mc.deletePolicy.bind(mc) : mc.deleteOperatorPolicy.bind(mc);
      const list = kind === 'policy' ? mc.listPolicies.bind(mc) : mc.listOperatorPolicies.bind(mc);
      const name = uniq('pol') + '/ö %#?';
      const policy = { pattern: '^warren\\.', definition: { 'max-length': 1000 }, priority: 3, 'apply-to': 'queues' as const };
      assert.equal(await put(vhost, name, policy), 'created');
      assert.equal(await put(vhost, name, { ...policy, definition: { 'max-length': 2000 } }), 'existed');
      const found = (await list(vhost)).find((p) => p.name === name);
      assert.deepEqual(found, { name, ...policy, definition: { 'max-length': 2000 } });
      assert.equal(await del(vhost, name), true);
      assert.equal(await del(vhost, name), false);
      assert.equal((await list(vhost)).some((p) => p.name === name), false);
    });
  }

  it('connections of a user without any: [] and closing them is a no-op', async () => {
    assert.deepEqual(await mc.listUserConnections(user), []);
    assert.deepEqual(await mc.listUserConnections(uniq('nobody')), []);
    await mc.closeUserConnections(user, 'nothing to close – ünïcode reason');
  });

  it('names the HTTP API cannot address are refused before any request', async () => {
    const before = mc.stats().counters.attempts;
    await assert.rejects(mc.getUser(''), TypeError);
    await assert.rejects(mc.getUser('..'), RangeError);
    await assert.rejects(mc.deleteVhost('.'), RangeError);
    assert.equal(mc.stats().counters.attempts, before);
  });
});

describe('observability hooks', () => {
  let events: Array<Record<string, unknown>> = [];
  const lines: string[] = [];
  const logger = {
    debug: (obj: object, msg?: string) => lines.push(JSON.stringify({ ...obj, msg })),
    warn: (obj: object, msg?: string) => lines.push(JSON.stringify({ ...obj, msg })),
  };
  const password = 'Hook-Secret-' + Math.random().toString(36).slice(2);
  const hooked = adminClient({ logger, onCall: (e) => void events.push({ ...e }) });
  const name = uniq('hook');

  before(() => {
    events = [];
  });
  after(async () => {
    await hooked.deleteUser(name);
    await hooked.close();
  });

  it('onCall and the logger see every exchange, with templates, and never a password', async () => {
    await hooked.putUser(name, { password });
    await hooked.getUser(name);
    await hooked.getUser(name + '-missing');
    assert.deepEqual(
      events.map((e) => [e.method, e.pathTemplate, e.status]),
      [
        ['PUT', '/api/users/{}', 201],
        ['GET', '/api/users/{}', 200],
        ['GET', '/api/users/{}', 404],
      ],
    );
    for (const e of events) {
      assert.equal(typeof e.durationMs, 'number');
      assert.equal(e.node, 'http://127.0.0.1:15672');
    }
    assert.equal(lines.length, 3);
    const all = lines.join('\n');
    assert.ok(!all.includes(password), 'a log line contains the password');
    assert.ok(!all.includes('guest:guest') && !all.includes('Basic '), 'a log line contains admin credentials');

    const s = hooked.stats();
    assert.deepEqual(s.counters.calls, { GET: 2, PUT: 1, POST: 0, DELETE: 0 });
    assert.equal(s.counters.errorsByStatus['404'], 1);
    assert.ok(s.counters.bodyBytesRead > 0);
    assert.equal(s.nodes.length, 1);
    assert.equal(s.nodes[0]?.origin, 'http://127.0.0.1:15672');
    for (const k of ['connected', 'free', 'pending', 'queued', 'running', 'size'] as const) {
      assert.equal(typeof s.nodes[0]?.[k], 'number');
    }
  });
});
