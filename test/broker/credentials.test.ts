// The credentials JSON an app receives: its shape (the fields existing RabbitMQ client libraries
// and buildpacks read), every URI usable as given, and the tenancy it grants (its own vhost only).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, MGMT_URL, provisionBody, roundTrip, safeClose, SMALL_PLAN_ID,
  STANDARD_PLAN_ID, startEnv, type Env,
} from './helpers.ts';

/** GET on a URL whose userinfo holds the credentials (fetch-style clients refuse userinfo: split it). */
async function getWithUserinfo(uri: string, path: string): Promise<{ status: number; body: any; text: string }> {
  const u = new URL(uri);
  const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  const res = await request(new URL(path, u).toString(), { headers: { authorization: auth } });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, text };
}

describe('binding credentials', () => {
  let env: Env;
  let inst: string;
  let other: string;
  let creds: Record<string, any>;
  let otherCreds: Record<string, any>;

  before(async () => {
    env = await startEnv('cred');
    inst = env.id('inst');
    other = env.id('other');
    for (const [id, plan] of [[inst, SMALL_PLAN_ID], [other, STANDARD_PLAN_ID]] as const) {
      const r = await env.osb.call('PUT', `/v2/service_instances/${id}`, { body: provisionBody(plan) });
      assert.equal(r.status, 201, r.text);
    }
    const b = await env.osb.call('PUT', bindingPath(inst, env.id('b')), { body: bindBody(SMALL_PLAN_ID) });
    assert.equal(b.status, 201, b.text);
    creds = b.body.credentials;
    const o = await env.osb.call('PUT', bindingPath(other, env.id('o')), { body: bindBody(STANDARD_PLAN_ID) });
    assert.equal(o.status, 201, o.text);
    otherCreds = o.body.credentials;
  });
  after(async () => {
    await env.cleanup();
  });

  it('has the top-level fields apps read, with the right types and values', () => {
    for (const f of ['uri', 'hostname', 'vhost', 'username', 'password', 'http_api_uri']) {
      assert.equal(typeof creds[f], 'string', `credentials.${f} is a string`);
      assert.ok(creds[f].length > 0, `credentials.${f} is not empty`);
    }
    for (const f of ['uris', 'hostnames', 'http_api_uris']) {
      assert.ok(Array.isArray(creds[f]) && creds[f].length >= 1, `credentials.${f} is a non-empty list`);
    }
    assert.equal(creds.ssl, false, 'no TLS listener on this RabbitMQ: ssl false');
    assert.equal(creds.vhost, inst);
    assert.equal(creds.hostname, '127.0.0.1');
    assert.deepEqual(creds.hostnames, ['127.0.0.1']);
    assert.equal(creds.uris[0], creds.uri);
    assert.equal(creds.http_api_uris[0], creds.http_api_uri);
    assert.ok(creds.username.startsWith(env.id('b')), `the user is named after the binding: ${creds.username}`);
    assert.match(creds.uri, /^amqp:\/\//);
    assert.match(creds.http_api_uri, /^http:\/\/.*\/api\/$/);
  });

  it('has protocols.amqp and protocols.management blocks consistent with the top level', () => {
    const a = creds.protocols?.amqp;
    assert.ok(a, 'protocols.amqp');
    assert.deepEqual(
      { host: a.host, hosts: a.hosts, port: a.port, uri: a.uri, uris: a.uris, username: a.username, password: a.password, vhost: a.vhost, ssl: a.ssl },
      { host: '127.0.0.1', hosts: ['127.0.0.1'], port: 5672, uri: creds.uri, uris: creds.uris, username: creds.username, password: creds.password, vhost: inst, ssl: false },
    );
    const m = creds.protocols?.management;
    assert.ok(m, 'protocols.management');
    assert.equal(m.host, '127.0.0.1');
    assert.equal(m.port, Number(new URL(MGMT_URL).port || 15672));
    assert.equal(m.ssl, false);
    assert.equal(m.username, creds.username);
    assert.equal(m.password, creds.password);
    assert.equal(m.uri, creds.http_api_uri);
    assert.deepEqual(m.uris, creds.http_api_uris);
    assert.ok(!('amqp+ssl' in creds.protocols), 'no amqp+ssl block where the cluster offers no TLS');
    assert.ok(!('management+ssl' in creds.protocols));
  });

  it('every URI parses with new URL and decodes back to the username, password and vhost', () => {
    const all: Array<[string, string, boolean]> = [];
    const add = (where: string, uri: unknown, hasVhost: boolean) => {
      assert.equal(typeof uri, 'string', where);
      all.push([where, uri as string, hasVhost]);
    };
    add('uri', creds.uri, true);
    creds.uris.forEach((u: string, i: number) => add(`uris[${i}]`, u, true));
    add('http_api_uri', creds.http_api_uri, false);
    creds.http_api_uris.forEach((u: string, i: number) => add(`http_api_uris[${i}]`, u, false));
    for (const [name, block] of Object.entries<any>(creds.protocols)) {
      add(`protocols.${name}.uri`, block.uri, name.startsWith('amqp'));
      block.uris.forEach((u: string, i: number) => add(`protocols.${name}.uris[${i}]`, u, name.startsWith('amqp')));
    }
    for (const [where, uri, hasVhost] of all) {
      let u: URL;
      assert.doesNotThrow(() => (u = new URL(uri)), `${where} is a URL: ${uri}`);
      u = new URL(uri);
      assert.equal(decodeURIComponent(u.username), creds.username, `${where}: user`);
      assert.equal(decodeURIComponent(u.password), creds.password, `${where}: password`);
      assert.equal(u.hostname, '127.0.0.1', `${where}: host`);
      if (hasVhost) assert.equal(decodeURIComponent(u.pathname.slice(1)), inst, `${where}: vhost`);
    }
  });

  it('protocols.amqp.uri connects (amqplib) and works', async () => {
    const c = await amqpConnect(creds.protocols.amqp.uri);
    await roundTrip(c.conn);
    await safeClose(c);
  });

  it('servicebinding.io: as Korifi projects it under $SERVICE_BINDING_ROOT/<name>/, the files alone connect', async () => {
    // One file per key, strings as they are, anything else as JSON: what a binding Secret becomes.
    const root = mkdtempSync(join(tmpdir(), 'service-binding-root-'));
    try {
      const dir = join(root, 'my-mq');
      mkdirSync(dir);
      for (const [key, value] of Object.entries(creds)) writeFileSync(join(dir, key), typeof value === 'string' ? value : JSON.stringify(value));
      const file = (key: string) => readFileSync(join(dir, key), 'utf8');
      assert.equal(file('type'), 'rabbitmq');
      assert.equal(file('provider'), 'warren');
      assert.deepEqual([file('host'), file('port'), file('vhost'), file('addresses')], ['127.0.0.1', '5672', inst, '127.0.0.1:5672']);
      for (const key of ['type', 'provider', 'host', 'port', 'addresses', 'username', 'password', 'vhost', 'uri']) {
        assert.equal(typeof creds[key], 'string', `${key} is a flat string`);
      }
      assert.ok(!('tls_port' in creds) && !('tls_uri' in creds), 'no TLS keys where the cluster offers no TLS');
      // An app that reads host, port, username, password and vhost (not the uri).
      const parts = `amqp://${encodeURIComponent(file('username'))}:${encodeURIComponent(file('password'))}@${file('host')}:${file('port')}/${encodeURIComponent(file('vhost'))}`;
      for (const uri of [parts, file('uri')]) {
        const c = await amqpConnect(uri);
        await roundTrip(c.conn);
        await safeClose(c);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('http_api_uri is usable: whoami and overview answer with the binding\'s login (management tag)', async () => {
    const who = await getWithUserinfo(creds.http_api_uri, 'whoami');
    assert.equal(who.status, 200, who.text);
    assert.equal(who.body.name, creds.username);
    const tags: string[] = Array.isArray(who.body.tags) ? who.body.tags : String(who.body.tags).split(',');
    assert.ok(tags.includes('management'), `tags: ${JSON.stringify(who.body.tags)}`);
    assert.ok(!tags.includes('administrator'), 'a binding user is never an administrator');
    const overview = await getWithUserinfo(creds.http_api_uri, 'overview');
    assert.equal(overview.status, 200, overview.text);
    for (const [i, u] of creds.http_api_uris.entries()) {
      const r = await getWithUserinfo(u, 'whoami');
      assert.equal(r.status, 200, `http_api_uris[${i}]: ${r.text}`);
    }
  });

  it('the management API shows the binding its own vhost only', async () => {
    const vhosts = await getWithUserinfo(creds.http_api_uri, 'vhosts');
    assert.equal(vhosts.status, 200, vhosts.text);
    assert.deepEqual((vhosts.body as Array<{ name: string }>).map((v) => v.name), [inst]);
    const foreign = await getWithUserinfo(creds.http_api_uri, `queues/${encodeURIComponent(other)}`);
    assert.ok(foreign.status === 401 || foreign.status === 403 || foreign.status === 404, `another tenant's queues: ${foreign.status} ${foreign.text}`);
  });

  it('a binding\'s credentials do not open another instance\'s vhost (AMQP)', async () => {
    const u = new URL(creds.uri);
    u.pathname = `/${encodeURIComponent(other)}`;
    await amqpRefused(u.toString());
    const v = new URL(otherCreds.uri);
    v.pathname = `/${encodeURIComponent(inst)}`;
    await amqpRefused(v.toString());
    // Nor the default vhost "/".
    const d = new URL(creds.uri);
    d.pathname = '/%2F';
    await amqpRefused(d.toString());
  });

  it('a binding user cannot lift its own limits, drop the operator policy, or create users (management API)', async () => {
    const u = new URL(creds.http_api_uri);
    const auth = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    const call = async (method: 'PUT' | 'DELETE', path: string, body?: unknown) => {
      const res = await request(`${u.protocol}//${u.host}/api/${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.body.text();
      return res.statusCode;
    };
    const limitsBefore = await env.rmq.vhostLimits(inst);
    const lim = await call('PUT', `vhost-limits/${encodeURIComponent(inst)}/max-connections`, { value: 100000 });
    assert.ok(lim === 401 || lim === 403, `raise own vhost limit: ${lim}`);
    assert.deepEqual(await env.rmq.vhostLimits(inst), limitsBefore);
    const ulim = await call('DELETE', `user-limits/${encodeURIComponent(creds.username)}/max-connections`);
    assert.ok(ulim === 401 || ulim === 403, `drop own user limit: ${ulim}`);
    assert.deepEqual(await env.rmq.userLimits(creds.username), { 'max-connections': 5, 'max-channels': 64 });
    const user = await call('PUT', `users/${encodeURIComponent(creds.username)}-x`, { password: 'p', tags: 'administrator' });
    assert.ok(user === 401 || user === 403, `create a user: ${user}`);
    assert.equal(await env.rmq.userExists(`${creds.username}-x`), false);
    const perm = await call('PUT', `permissions/${encodeURIComponent(other)}/${encodeURIComponent(creds.username)}`, { configure: '.*', write: '.*', read: '.*' });
    assert.ok(perm === 401 || perm === 403, `grant itself another vhost: ${perm}`);
    // On "standard", the operator policy stays: a binding cannot remove it.
    const ou = new URL(otherCreds.http_api_uri);
    const oauth = 'Basic ' + Buffer.from(`${otherCreds.username}:${otherCreds.password}`).toString('base64');
    const res = await request(`${ou.protocol}//${ou.host}/api/operator-policies/${encodeURIComponent(other)}/warren-queue-cap`, {
      method: 'DELETE',
      headers: { authorization: oauth },
    });
    await res.body.text();
    assert.ok(res.statusCode === 401 || res.statusCode === 403, `delete the operator policy: ${res.statusCode}`);
    assert.deepEqual((await env.rmq.operatorPolicies(other)).map((p) => p.name), ['warren-queue-cap']);
  });

  it('binding rotation on "standard" (predecessor_binding_id): new credentials, both work, a repeat is 200', async () => {
    const successor = env.id('o2');
    const body = bindBody(STANDARD_PLAN_ID, { predecessor_binding_id: env.id('o') });
    const r = await env.osb.call('PUT', bindingPath(other, successor), { body });
    assert.equal(r.status, 201, r.text);
    const next = r.body.credentials;
    assert.notEqual(next.username, otherCreds.username);
    assert.notEqual(next.password, otherCreds.password);
    assert.equal(next.vhost, other);
    for (const c of [otherCreds, next]) {
      const t = await amqpConnect(c.uri);
      await roundTrip(t.conn);
      await safeClose(t);
    }
    const again = await env.osb.call('PUT', bindingPath(other, successor), { body });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body.credentials, next);
    const missing = await env.osb.call('PUT', bindingPath(other, env.id('o3')), { body: bindBody(STANDARD_PLAN_ID, { predecessor_binding_id: env.id('nope') }) });
    assert.equal(missing.status, 400, missing.text);
    assert.deepEqual(await env.rmq.usersStartingWith(env.id('o3')), []);
  });

  it('two bindings never share a username or a password', () => {
    assert.notEqual(creds.username, otherCreds.username);
    assert.notEqual(creds.password, otherCreds.password);
  });
});
