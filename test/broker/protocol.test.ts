// The protocol's edges: authentication before the version header before the body, the error
// shape {"error","description"} with content-type application/json on every answer, and bad
// input answered with a clear 4xx that leaves NOTHING behind, in RabbitMQ or in the store.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OsbClient, type OsbAnswer } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import {
  amqpConnect, bindBody, bindingPath, DEFAULT_SERVICE_ID, expectError, expectJson, expectStatus, ids, instancePath,
  provisionBody, RabbitAdmin, roundTrip, safeClose, SMALL_PLAN_ID, STANDARD_PLAN_ID, startEnv, type Env,
} from './helpers.ts';

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('OSBAPI protocol: auth, headers, errors, bad input', () => {
  let env: Env;
  let inst: string; // a ready instance (plan small) for the binding cases
  let bound: Record<string, any>;

  /** Nothing of this raw id exists: not in the store (GET 404), not in RabbitMQ (vhost, users). */
  async function assertNothingCreated(rawId: string, what: string): Promise<void> {
    assert.equal(await env.rmq.vhostExists(rawId), false, `${what}: a vhost "${rawId}" was created`);
    assert.deepEqual(await env.rmq.usersStartingWith(rawId), [], `${what}: a user was created`);
    if (/^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$/.test(rawId)) {
      expectError(await env.osb.call('GET', instancePath(rawId)), 404, undefined, `${what}: GET instance afterwards`);
    }
  }

  let throttleDir: string;
  before(async () => {
    // These cases send many wrong passwords on purpose: raise the failed-login throttle (tested on its own).
    throttleDir = mkdtempSync(join(tmpdir(), 'warren-proto-throttle-'));
    writeFileSync(join(throttleDir, 'warren.yml'), 'auth_throttle: { max_failures: 10000 }\n');
    env = await startEnv('proto', { args: ['--config', join(throttleDir, 'warren.yml')] });
    inst = env.id('inst');
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: provisionBody(SMALL_PLAN_ID) }), 201, 'provision');
    const b = await env.osb.call('PUT', bindingPath(inst, env.id('bound')), { body: bindBody(SMALL_PLAN_ID) });
    expectStatus(b, 201, 'bind');
    bound = b.body.credentials;
  });
  after(async () => {
    await env.cleanup();
    rmSync(throttleDir, { recursive: true, force: true });
  });

  describe('authentication and headers', () => {
    it('no credentials, a wrong password, a wrong user, or a malformed header: 401 JSON with WWW-Authenticate', async () => {
      for (const [what, auth] of [
        ['none', null],
        ['wrong password', basic(env.warren.username, env.warren.password + 'x')],
        ['wrong user', basic('someone', env.warren.password)],
        ['empty password', basic(env.warren.username, '')],
        ['bearer', 'Bearer abc'],
        ['garbage', 'Basic !!!'],
      ] as const) {
        for (const [method, path] of [['GET', '/v2/catalog'], ['PUT', instancePath(env.id('noauth'))], ['DELETE', `${instancePath(inst)}?${ids()}`]] as const) {
          const r = await env.osb.call(method, path, { auth, body: method === 'PUT' ? provisionBody() : undefined });
          expectError(r, 401, undefined, `${what} ${method} ${path}`);
          assert.match(String(r.headers['www-authenticate']), /^Basic\b/i, `${what}: WWW-Authenticate`);
        }
      }
      await assertNothingCreated(env.id('noauth'), 'unauthenticated provision');
      assert.ok(await env.rmq.vhostExists(inst), 'an unauthenticated DELETE deleted nothing');
    });

    it('401 comes before 412: no credentials and no version header is 401', async () => {
      const r = await env.osb.call('GET', '/v2/catalog', { auth: null, version: null });
      expectError(r, 401, undefined, 'no auth, no version');
      const bad = await env.osb.call('PUT', instancePath(env.id('x401')), { auth: null, version: '1.0', rawBody: '{not json' });
      expectError(bad, 401, undefined, 'no auth, old version, invalid body');
    });

    it('an unauthenticated request is 401 whatever its path holds (a 300-character id too)', async () => {
      const long = `${env.prefix}`.padEnd(300, 'z');
      for (const path of [instancePath(long), bindingPath(inst, long), instancePath('a%2Fb')]) {
        const r = await env.osb.call('PUT', path, { auth: null, body: provisionBody() });
        expectError(r, 401, undefined, `unauthenticated PUT ${path.slice(0, 60)}...`);
      }
    });

    it('a missing or 1.x/3.x X-Broker-API-Version is 412, even with no body', async () => {
      for (const version of [null, '1.13', '3.0', 'abc', '']) {
        for (const [method, path] of [['GET', '/v2/catalog'], ['PUT', instancePath(env.id('v412'))], ['PATCH', instancePath(inst)], ['DELETE', `${instancePath(inst)}?${ids()}`]] as const) {
          const r = await env.osb.call(method, path, { version });
          expectError(r, 412, undefined, `version ${JSON.stringify(version)} ${method}`);
        }
      }
      await assertNothingCreated(env.id('v412'), '412 provision');
      assert.ok(await env.rmq.vhostExists(inst), 'a DELETE answered 412 deleted nothing');
    });

    it('any 2.x version is accepted', async () => {
      for (const version of ['2.17', '2.13', '2.16', '2']) {
        expectStatus(await env.osb.call('GET', '/v2/catalog', { version }), 200, `version ${version}`);
      }
    });

    it('X-Broker-API-Request-Identity is echoed on success and on errors', async () => {
      const cases: Array<[string, () => Promise<OsbAnswer>, number]> = [
        ['catalog', () => env.osb.call('GET', '/v2/catalog', { headers: { 'x-broker-api-request-identity': 'rid-1' } }), 200],
        ['401', () => env.osb.call('GET', '/v2/catalog', { auth: null, headers: { 'x-broker-api-request-identity': 'rid-2' } }), 401],
        ['412', () => env.osb.call('GET', '/v2/catalog', { version: null, headers: { 'x-broker-api-request-identity': 'rid-3' } }), 412],
        ['404', () => env.osb.call('GET', instancePath(env.id('nope')), { headers: { 'x-broker-api-request-identity': 'rid-4' } }), 404],
        ['400', () => env.osb.call('PUT', instancePath(env.id('bad')), { rawBody: '[]', headers: { 'x-broker-api-request-identity': 'rid-5' } }), 400],
      ];
      for (const [i, [what, call, status]] of cases.entries()) {
        const r = await call();
        assert.equal(r.status, status, `${what}: ${r.text}`);
        assert.equal(r.headers['x-broker-api-request-identity'], `rid-${i + 1}`, `${what}: identity echoed`);
      }
    });

    it('X-Broker-API-Originating-Identity (valid or not) never changes the answer, and reaches the audit log', async () => {
      const id = env.id('orig');
      const value = Buffer.from(JSON.stringify({ user_id: 'u-4711' })).toString('base64');
      const r = await env.osb.call('PUT', instancePath(id), {
        body: provisionBody(),
        headers: { 'x-broker-api-originating-identity': `cloudfoundry ${value}` },
      });
      expectStatus(r, 201, 'provision with originating identity');
      const d = await env.osb.call('DELETE', `${instancePath(id)}?${ids()}`, { headers: { 'x-broker-api-originating-identity': 'garbage' } });
      expectStatus(d, 200, 'deprovision with a malformed originating identity');
      await new Promise((res) => setTimeout(res, 200)); // the log is written asynchronously
      const line = env.warren.logs.find((l) => l.includes('"audit":"provisioned"') && l.includes(id));
      assert.ok(line, 'audit line for the provision');
      assert.match(line, /u-4711/, `the audit line names the originating user: ${line}`);
    });
  });

  describe('provision: bad input is a clear 4xx and creates nothing', () => {
    const cases: Array<[string, { body?: unknown; rawBody?: string }, number]> = [
      ['invalid JSON', { rawBody: '{"service_id": ' }, 400],
      ['a JSON array', { rawBody: JSON.stringify([provisionBody()]) }, 400],
      ['a JSON string', { rawBody: '"hello"' }, 400],
      ['a JSON null', { rawBody: 'null' }, 400],
      ['no body at all', {}, 400],
      ['an empty object', { body: {} }, 400],
      ['parameters not an object', { body: provisionBody(SMALL_PLAN_ID, { parameters: 'x' }) }, 400],
      ['context an array', { body: provisionBody(SMALL_PLAN_ID, { context: [1] }) }, 400],
      ['service_id a number', { body: provisionBody(SMALL_PLAN_ID, { service_id: 7 }) }, 400],
      ['unknown service_id', { body: provisionBody(SMALL_PLAN_ID, { service_id: 'no-such-service' }) }, 400],
      ['unknown plan_id', { body: provisionBody('no-such-plan') }, 400],
    ];
    for (const field of ['service_id', 'plan_id', 'organization_guid', 'space_guid']) {
      const missing = provisionBody();
      delete missing[field];
      cases.push([`missing ${field}`, { body: missing }, 400]);
      cases.push([`empty ${field}`, { body: { ...provisionBody(), [field]: '' } }, 400]);
    }
    for (const [i, [what, req, status]] of cases.entries()) {
      it(`${what}: ${status}`, async () => {
        const id = env.id(`bad${i}`);
        const r = await env.osb.call('PUT', instancePath(id), req);
        expectError(r, status, undefined, what);
        await assertNothingCreated(id, what);
      });
    }
  });

  describe('ids that are not safe names are refused before anything is created', () => {
    const raw = (tag: string) => `wt-rawid-${tag}`;
    const cases: Array<[string, string, string]> = [
      ['a "/" (as %2F)', `${raw('sl')}%2Fx`, `${raw('sl')}/x`],
      ['a "%" (as %25)', `${raw('pc')}%25x`, `${raw('pc')}%x`],
      ['unicode (percent-encoded UTF-8)', `${raw('uni')}-${encodeURIComponent('übung-日本')}`, `${raw('uni')}-übung-日本`],
      ['a space (as %20)', `${raw('sp')}%20x`, `${raw('sp')} x`],
      ['a leading "."', `.${raw('dot')}`, `.${raw('dot')}`],
      ['300 characters', `${raw('long')}-${'a'.repeat(300 - raw('long').length - 1)}`, `${raw('long')}-${'a'.repeat(300 - raw('long').length - 1)}`],
    ];
    for (const [what, inPath, decoded] of cases) {
      it(`instance id with ${what}: 4xx {"error","description"}`, async () => {
        const r = await env.osb.call('PUT', `/v2/service_instances/${inPath}`, { body: provisionBody() });
        assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.text}`);
        expectError(r, r.status, undefined, what);
        await assertNothingCreated(decoded, what);
      });
      it(`binding id with ${what}: 4xx {"error","description"}`, async () => {
        const r = await env.osb.call('PUT', `${instancePath(inst)}/service_bindings/${inPath}`, { body: bindBody() });
        assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.text}`);
        expectError(r, r.status, undefined, what);
        assert.deepEqual(await env.rmq.usersStartingWith(decoded), [], `${what}: a user was created`);
      });
    }

    it('ids up to 255 characters (the documented rule) work end to end', async () => {
      const id = `${env.prefix}L`.padEnd(255, 'x');
      const bid = `${env.prefix}B`.padEnd(255, 'y');
      assert.equal(id.length, 255);
      const p = await env.osb.call('PUT', instancePath(id), { body: provisionBody() });
      expectStatus(p, 201, '255-character instance id');
      const b = await env.osb.call('PUT', bindingPath(id, bid), { body: bindBody() });
      expectStatus(b, 201, '255-character binding id');
      const c = await amqpConnect(b.body.credentials.uri);
      await safeClose(c);
      expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids()}`), 200, 'deprovision');
      assert.equal(await env.rmq.vhostExists(id), false);
    });

    it('ids with ".", "_" and "~" work end to end (credentials encode the vhost)', async () => {
      const id = `${env.prefix}a.b_c~d`;
      expectStatus(await env.osb.call('PUT', instancePath(id), { body: provisionBody() }), 201, 'provision');
      const b = await env.osb.call('PUT', bindingPath(id, `${env.prefix}x.y_z~w`), { body: bindBody() });
      expectStatus(b, 201, 'bind');
      assert.equal(b.body.credentials.vhost, id);
      const c = await amqpConnect(b.body.credentials.uri);
      await roundTrip(c.conn);
      await safeClose(c);
      expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids()}`), 200, 'deprovision');
    });
  });

  describe('bodies: size, content type, unknown fields', () => {
    it('a 10 MB body: 413 JSON, nothing created', async () => {
      const id = env.id('huge');
      const body = Buffer.from(JSON.stringify(provisionBody(SMALL_PLAN_ID, { parameters: { blob: 'x'.repeat(10 * 1024 * 1024) } })));
      // A client that sends the body in pieces and stops once the answer is there. (Warren answers
      // 413 with "connection: close" and closes without draining: a client that pushes all 10 MB
      // before reading may get EPIPE/ECONNRESET instead of the answer; see the report.)
      const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
        const url = new URL(instancePath(id), env.warren.url);
        let answered = false;
        const req = http.request(url, {
          method: 'PUT',
          agent: false,
          headers: {
            authorization: basic(env.warren.username, env.warren.password),
            'x-broker-api-version': '2.17',
            'content-type': 'application/json',
            'content-length': body.length,
          },
        });
        const timer = setTimeout(() => {
          req.destroy();
          reject(new Error('no answer to a 10 MB body within 10 s'));
        }, 10_000);
        req.on('response', (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            req.destroy();
            resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() });
          });
          res.on('error', () => undefined);
        });
        req.on('error', (err) => {
          if (answered) return;
          clearTimeout(timer);
          reject(new Error(`the 10 MB request failed before any answer: ${err.message}`));
        });
        req.flushHeaders();
        const CHUNK = 64 * 1024;
        let offset = 0;
        const pump = () => {
          while (!answered && !req.destroyed && offset < body.length) {
            const piece = body.subarray(offset, offset + CHUNK);
            offset += piece.length;
            if (!req.write(piece)) return void req.once('drain', () => setTimeout(pump, 1));
          }
          if (!answered && offset >= body.length) req.end();
        };
        // warren answers 413 from the headers alone (content-length over the limit); give it time
        // to, so a loaded machine does not turn the answer into a race with our EPIPE.
        setTimeout(pump, 500);
      });
      assert.equal(answer.status, 413, answer.text);
      assert.match(String(answer.headers['content-type']), /^application\/json\b/);
      const parsed = JSON.parse(answer.text);
      assert.equal(typeof parsed.error, 'string');
      assert.equal(typeof parsed.description, 'string');
      await assertNothingCreated(id, '10 MB body');
    });

    it('a wrong or missing content-type is still read as JSON', async () => {
      for (const [i, ct] of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'].entries()) {
        const id = env.id(`ct${i}`);
        const r = await env.osb.call('PUT', instancePath(id), { rawBody: JSON.stringify(provisionBody()), headers: { 'content-type': ct } });
        expectStatus(r, 201, `content-type ${ct}`);
        assert.ok(await env.rmq.vhostExists(id));
        expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids()}`), 200, 'deprovision');
      }
    });

    it('unknown fields in bodies are ignored', async () => {
      const id = env.id('unknown');
      const r = await env.osb.call('PUT', instancePath(id), { body: provisionBody(SMALL_PLAN_ID, { future_field: { a: 1 }, another: [1, 2] }) });
      expectStatus(r, 201, 'provision with unknown fields');
      const b = await env.osb.call('PUT', bindingPath(id, env.id('ub')), { body: bindBody(SMALL_PLAN_ID, { future_field: true }) });
      expectStatus(b, 201, 'bind with unknown fields');
      const u = await env.osb.call('PATCH', instancePath(id), { body: { service_id: DEFAULT_SERVICE_ID, future_field: 'x' } });
      expectStatus(u, 200, 'update with unknown fields');
      expectStatus(await env.osb.call('DELETE', `${instancePath(id)}?${ids()}&future_param=1`), 200, 'deprovision with an unknown query parameter');
    });
  });

  describe('bind, update, delete and fetch: errors', () => {
    it('bind with bad input: 400, and no user is created', async () => {
      const cases: Array<[string, { body?: unknown; rawBody?: string }]> = [
        ['invalid JSON', { rawBody: '{' }],
        ['a JSON array', { rawBody: '[]' }],
        ['no body', {}],
        ['missing service_id', { body: { plan_id: SMALL_PLAN_ID } }],
        ['missing plan_id', { body: { service_id: DEFAULT_SERVICE_ID } }],
        ['empty plan_id', { body: bindBody('') }],
        ['unknown plan_id', { body: bindBody('no-such-plan') }],
        ['unknown service_id', { body: { ...bindBody(), service_id: 'no-such-service' } }],
        ['a plan that is not the instance\'s', { body: bindBody(STANDARD_PLAN_ID) }],
        ['rotation on a plan without binding_rotatable', { body: bindBody(SMALL_PLAN_ID, { predecessor_binding_id: env.id('bound') }) }],
        ['parameters not an object', { body: bindBody(SMALL_PLAN_ID, { parameters: 3 }) }],
      ];
      for (const [i, [what, req]] of cases.entries()) {
        const bid = env.id(`badbind${i}`);
        const r = await env.osb.call('PUT', bindingPath(inst, bid), req);
        expectError(r, 400, undefined, `bind: ${what}`);
        assert.deepEqual(await env.rmq.usersStartingWith(bid), [], `bind: ${what}: a user was created`);
        expectError(await env.osb.call('GET', bindingPath(inst, bid)), 404, undefined, `bind: ${what}: GET afterwards`);
      }
    });

    it('bind to an instance that does not exist: 404, no user', async () => {
      const bid = env.id('orphanbind');
      const r = await env.osb.call('PUT', bindingPath(env.id('missing'), bid), { body: bindBody() });
      expectError(r, 404, undefined, 'bind to a missing instance');
      assert.deepEqual(await env.rmq.usersStartingWith(bid), []);
    });

    it('deprovision and unbind without service_id or plan_id: 400, and nothing is deleted', async () => {
      for (const q of ['', `?service_id=${DEFAULT_SERVICE_ID}`, `?plan_id=${SMALL_PLAN_ID}`, `?service_id=&plan_id=`]) {
        expectError(await env.osb.call('DELETE', `${instancePath(inst)}${q}`), 400, undefined, `deprovision "${q}"`);
        expectError(await env.osb.call('DELETE', `${bindingPath(inst, env.id('bound'))}${q}`), 400, undefined, `unbind "${q}"`);
      }
      assert.ok(await env.rmq.vhostExists(inst), 'the vhost is still there');
      assert.ok(await env.rmq.userExists(bound.username), 'the binding user is still there');
      expectStatus(await env.osb.call('GET', instancePath(inst)), 200, 'GET instance');
      const c = await amqpConnect(bound.uri);
      await safeClose(c);
    });

    it('update with bad input: 4xx, and the instance is unchanged', async () => {
      const limitsBefore = await env.rmq.vhostLimits(inst);
      for (const [what, req, status] of [
        ['no service_id', { body: { plan_id: STANDARD_PLAN_ID } }, 400],
        ['unknown plan', { body: { service_id: DEFAULT_SERVICE_ID, plan_id: 'no-such-plan' } }, 400],
        ['unknown service', { body: { service_id: 'no-such-service', plan_id: STANDARD_PLAN_ID } }, 400],
        ['invalid JSON', { rawBody: '{{' }, 400],
      ] as const) {
        expectError(await env.osb.call('PATCH', instancePath(inst), req), status, undefined, `update: ${what}`);
      }
      assert.equal((await env.osb.call('GET', instancePath(inst))).body.plan_id, SMALL_PLAN_ID);
      assert.deepEqual(await env.rmq.vhostLimits(inst), limitsBefore);
    });

    it('GET of an unknown instance or binding, and last_operation of an unknown instance or binding: 404 JSON', async () => {
      const missing = env.id('missing');
      for (const path of [
        instancePath(missing),
        bindingPath(missing, env.id('mb')),
        bindingPath(inst, env.id('mb')),
        `${instancePath(missing)}/last_operation`,
        `${bindingPath(inst, env.id('mb'))}/last_operation`,
        `${bindingPath(missing, env.id('mb'))}/last_operation`,
      ]) {
        expectError(await env.osb.call('GET', path), 404, undefined, `GET ${path}`);
      }
    });

    it('a binding is not reachable through another instance\'s path', async () => {
      const other = env.id('other');
      expectStatus(await env.osb.call('PUT', instancePath(other), { body: provisionBody() }), 201, 'provision other');
      expectError(await env.osb.call('GET', bindingPath(other, env.id('bound'))), 404, undefined, 'GET via another instance');
      const d = await env.osb.call('DELETE', `${bindingPath(other, env.id('bound'))}?${ids()}`);
      expectStatus(d, 410, 'unbind via another instance');
      assert.ok(await env.rmq.userExists(bound.username), 'the binding survived an unbind through another instance');
      const r = await env.osb.call('PUT', bindingPath(other, env.id('bound')), { body: bindBody() });
      expectError(r, 409, undefined, 'the same binding id under another instance');
      expectStatus(await env.osb.call('DELETE', `${instancePath(other)}?${ids()}`), 200, 'deprovision other');
      assert.ok(await env.rmq.userExists(bound.username), 'deprovisioning another instance left this binding alone');
    });

    it('last_operation with an unknown or missing operation parameter still answers', async () => {
      for (const q of ['', '?operation=does-not-exist', `?${ids()}&operation=`]) {
        const r = await env.osb.call('GET', `${instancePath(inst)}/last_operation${q}`);
        expectStatus(r, 200, `last_operation${q}`);
        assert.equal(r.body.state, 'succeeded');
        const b = await env.osb.call('GET', `${bindingPath(inst, env.id('bound'))}/last_operation${q}`);
        expectStatus(b, 200, `binding last_operation${q}`);
        assert.equal(b.body.state, 'succeeded');
      }
    });

    it('an unknown endpoint is a 404 JSON', async () => {
      const r = await env.osb.call('GET', '/v2/no_such_thing');
      expectError(r, 404, undefined, 'unknown endpoint');
      const m = await env.osb.call('PATCH', '/v2/catalog');
      assert.ok(m.status === 404 || m.status === 405, m.text);
      expectJson(m, 'PATCH /v2/catalog');
    });
  });
});

describe('a plan of another service is refused', () => {
  let warren: WarrenProcess;
  let osb: OsbClient;
  let dir: string;
  const OTHER_SERVICE = 'wt-proto-other-service';
  const OTHER_PLAN = 'wt-proto-other-plan';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warren-proto-cfg-'));
    const file = join(dir, 'warren.yaml');
    // JSON is YAML: the default service plus a second one.
    writeFileSync(file, JSON.stringify({
      catalog: {
        services: [
          {
            id: DEFAULT_SERVICE_ID,
            name: 'rabbitmq',
            plans: [{ id: SMALL_PLAN_ID, name: 'small', rabbitmq: { vhost_limits: { max_connections: 20, max_queues: 100 } } }],
          },
          { id: OTHER_SERVICE, name: 'other', plans: [{ id: OTHER_PLAN, name: 'other-small' }] },
        ],
      },
    }));
    warren = await startWarrenProcess({ env: { WARREN_CONFIG: file } });
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  });
  after(async () => {
    await osb?.close();
    await warren?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('provision and bind with a plan id that belongs to another service: 400, nothing created', async () => {
    const rmq = new RabbitAdmin();
    try {
      for (const [what, body] of [
        ['default service, other service\'s plan', provisionBody(OTHER_PLAN)],
        ['other service, default service\'s plan', { ...provisionBody(SMALL_PLAN_ID), service_id: OTHER_SERVICE }],
      ] as const) {
        const id = `wt-proto-xsvc-${Math.random().toString(36).slice(2, 10)}`;
        const r = await osb.call('PUT', instancePath(id), { body });
        expectError(r, 400, undefined, what);
        assert.equal(await rmq.vhostExists(id), false, `${what}: vhost created`);
        expectError(await osb.call('GET', instancePath(id)), 404, undefined, `${what}: GET afterwards`);
      }
    } finally {
      await rmq.close();
    }
  });
});
