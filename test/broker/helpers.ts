// Shared pieces of the broker's end-to-end tests: the real RabbitMQ's management API (read
// directly, never through warren's client), AMQP connections made the way an app makes them,
// unique names, OSBAPI request bodies, and cleanup that leaves RabbitMQ as it was found.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { ChannelModel } from 'amqplib';
import { Agent } from 'undici';
import { openAmqp, within, type LiveConnection } from '../support/amqp-connection.ts';
import { managementCall } from '../../testkit/json-answer.ts';
import { DEFAULT_SERVICE_ID, OsbClient, SMALL_PLAN_ID, STANDARD_PLAN_ID, type OsbAnswer } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type StartOptions, type WarrenProcess } from '../../testkit/warren-process.ts';
import { listedNames } from '../../testkit/listed-names.ts';

export { DEFAULT_SERVICE_ID, SMALL_PLAN_ID, STANDARD_PLAN_ID };

export const MGMT_URL = (process.env.RABBITMQ_MGMT_URL ?? 'http://127.0.0.1:15672').replace(/\/+$/, '');
const [ADMIN_USER = 'guest', ADMIN_PASS = 'guest'] = (process.env.RABBITMQ_ADMIN ?? 'guest:guest').split(':');
export const ADMIN_AUTH = 'Basic ' + Buffer.from(`${ADMIN_USER}:${ADMIN_PASS}`).toString('base64');

/** A name no other test (or rerun) uses: `wt-<tag>-<8 hex>`; valid as an OSBAPI id, vhost and user name. */
export function uid(tag: string): string {
  return `wt-${tag}-${randomBytes(4).toString('hex')}`;
}

export const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// RabbitMQ's management API, read directly with the administrator account. Bodies always read.

export interface MgmtAnswer {
  status: number;
  body: any;
  text: string;
}

export class RabbitAdmin {
  private readonly agent = new Agent({ connections: 8, keepAliveTimeout: 2000 });

  async call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown, auth = ADMIN_AUTH): Promise<MgmtAnswer> {
    return managementCall(this.agent, MGMT_URL, auth, method, path, body);
  }

  /**
   * RabbitMQ 3.10 can answer a list with a transient 500 while users or vhosts are being deleted
   * beside it (warren's late looks do that): a GET is asked again, briefly, before it counts.
   */
  async get(path: string): Promise<any> {
    let r = await this.call('GET', path);
    for (let i = 0; i < 5 && r.status >= 500; i++) {
      await new Promise((done) => setTimeout(done, 200 * (i + 1)));
      r = await this.call('GET', path);
    }
    assert.equal(r.status, 200, `GET /api/${path}: ${r.status} ${r.text}`);
    return r.body;
  }

  async vhostExists(vhost: string): Promise<boolean> {
    const r = await this.call('GET', `vhosts/${enc(vhost)}`);
    assert.ok(r.status === 200 || r.status === 404, `GET vhost ${vhost}: ${r.status} ${r.text}`);
    return r.status === 200;
  }

  async userExists(user: string): Promise<boolean> {
    const r = await this.call('GET', `users/${enc(user)}`);
    assert.ok(r.status === 200 || r.status === 404, `GET user ${user}: ${r.status} ${r.text}`);
    return r.status === 200;
  }

  async user(user: string): Promise<{ name: string; tags: string[] | string } | undefined> {
    const r = await this.call('GET', `users/${enc(user)}`);
    return r.status === 200 ? r.body : undefined;
  }

  async vhostNames(): Promise<string[]> {
    return listedNames(await this.get('vhosts?columns=name'));
  }

  async userNames(): Promise<string[]> {
    return listedNames(await this.get('users?columns=name'));
  }

  async usersStartingWith(prefix: string): Promise<string[]> {
    return (await this.userNames()).filter((n) => n.startsWith(prefix));
  }

  /** The vhost's limits as { 'max-connections': n, ... } ({} when none). */
  async vhostLimits(vhost: string): Promise<Record<string, number>> {
    const rows = (await this.get(`vhost-limits/${enc(vhost)}`)) as Array<{ value: Record<string, number> }>;
    return rows[0]?.value ?? {};
  }

  /** The user's limits as { 'max-connections': n, ... } ({} when none). */
  async userLimits(user: string): Promise<Record<string, number>> {
    const rows = (await this.get(`user-limits/${enc(user)}`)) as Array<{ value: Record<string, number> }>;
    return rows[0]?.value ?? {};
  }

  async operatorPolicies(vhost: string): Promise<Array<{ name: string; pattern: string; definition: Record<string, unknown>; 'apply-to': string }>> {
    return this.get(`operator-policies/${enc(vhost)}`);
  }

  async permissions(vhost: string, user: string): Promise<MgmtAnswer> {
    return this.call('GET', `permissions/${enc(vhost)}/${enc(user)}`);
  }

  /** Connection tracking (current within milliseconds, unlike /api/connections). */
  async userConnections(user: string): Promise<unknown[]> {
    return this.get(`connections/username/${enc(user)}`);
  }

  /** Removes every vhost and user whose name starts with prefix (a safety net for failed runs). */
  async purgePrefix(prefix: string): Promise<void> {
    for (const u of await this.usersStartingWith(prefix)) await this.call('DELETE', `users/${enc(u)}`);
    for (const v of (await this.vhostNames()).filter((n) => n.startsWith(prefix))) await this.call('DELETE', `vhosts/${enc(v)}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

// ---------------------------------------------------------------------------------------------
// AMQP, as an app uses it.

/** Connections opened through these helpers, so a file's after() hook can close any left over. */
const openConnections = new Set<ChannelModel>();

export type Tracked = LiveConnection;
export { within };

/** Connects with a URI from the credentials (bounded to timeoutMs); closed by closeAllConnections(). */
export async function amqpConnect(uri: string, timeoutMs = 5000): Promise<Tracked> {
  const live = await openAmqp(uri, timeoutMs);
  openConnections.add(live.conn);
  void live.closed.then(() => openConnections.delete(live.conn));
  return live;
}

/** Connecting must fail (refused login, limit reached...): returns the error. */
export async function amqpRefused(uri: string): Promise<Error> {
  let t: Tracked | undefined;
  try {
    t = await amqpConnect(uri);
  } catch (err) {
    return err as Error;
  }
  await safeClose(t);
  assert.fail('the AMQP connection was accepted, but it should have been refused');
}

export async function safeClose(t: Tracked | ChannelModel | undefined): Promise<void> {
  if (!t) return;
  const conn = 'conn' in t ? t.conn : t;
  await conn.close().catch(() => undefined);
}

export async function closeAllConnections(): Promise<void> {
  await Promise.all([...openConnections].map((c) => c.close().catch(() => undefined)));
  openConnections.clear();
}

/** Declares a queue, publishes a message and consumes it back: the connection really works. */
export async function roundTrip(conn: ChannelModel, queue = `q-${randomBytes(3).toString('hex')}`): Promise<void> {
  const ch = await conn.createChannel();
  try {
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    const payload = `hello ${randomBytes(4).toString('hex')}`;
    ch.sendToQueue(queue, Buffer.from(payload));
    const got = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('message not delivered within 3 s')), 3000);
      void ch.consume(queue, (msg) => {
        if (!msg) return;
        clearTimeout(timer);
        ch.ack(msg);
        resolve(msg.content.toString());
      });
    });
    assert.equal(got, payload);
    await ch.deleteQueue(queue);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// OSBAPI requests.

export function provisionBody(planId = SMALL_PLAN_ID, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { service_id: DEFAULT_SERVICE_ID, plan_id: planId, organization_guid: 'org-guid-1', space_guid: 'space-guid-1', ...extra };
}

export function bindBody(planId = SMALL_PLAN_ID, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { service_id: DEFAULT_SERVICE_ID, plan_id: planId, ...extra };
}

export const ids = (planId = SMALL_PLAN_ID) => `service_id=${DEFAULT_SERVICE_ID}&plan_id=${planId}`;
export const instancePath = (id: string) => `/v2/service_instances/${id}`;
export const bindingPath = (id: string, bid: string) => `/v2/service_instances/${id}/service_bindings/${bid}`;

export function expectJson(r: OsbAnswer, what = ''): void {
  const ct = String(r.headers['content-type'] ?? '');
  assert.match(ct, /^application\/json\b/, `${what} content-type is ${ct} (status ${r.status}, body ${r.text})`);
  assert.notEqual(r.body, undefined, `${what} body is not JSON: ${JSON.stringify(r.text)}`);
}

export function expectStatus(r: OsbAnswer, status: number, what = ''): void {
  assert.equal(r.status, status, `${what} expected ${status}, got ${r.status}: ${r.text}`);
  expectJson(r, what);
}

/** An OSBAPI error answer: the status, JSON, and {"error": <code>, "description": <text>}. */
export function expectError(r: OsbAnswer, status: number, code?: string, what = ''): void {
  expectStatus(r, status, what);
  assert.equal(typeof r.body.error, 'string', `${what} no "error" field: ${r.text}`);
  assert.equal(typeof r.body.description, 'string', `${what} no "description" field: ${r.text}`);
  assert.ok(r.body.description.length > 0, `${what} empty description`);
  if (code) assert.equal(r.body.error, code, `${what} error code: ${r.text}`);
}

/** Provisions a fresh instance `env.id(tag)` (201 asserted): what a test that needs an instance starts with. */
export async function provisioned(env: Env, tag: string, planId = SMALL_PLAN_ID): Promise<{ id: string; body: any }> {
  const id = env.id(tag);
  const r = await env.osb.call('PUT', instancePath(id), { body: provisionBody(planId) });
  expectStatus(r, 201, `provision ${id}`);
  return { id, body: r.body };
}

/** Binds a fresh binding `env.id(tag)` to the instance (201 asserted); returns its id and credentials. */
export async function bound(
  env: Env,
  instance: string,
  tag: string,
  planId = SMALL_PLAN_ID,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; credentials: Record<string, any> }> {
  const id = env.id(tag);
  const r = await env.osb.call('PUT', bindingPath(instance, id), { body: bindBody(planId, extra) });
  expectStatus(r, 201, `bind ${id}`);
  return { id, credentials: r.body.credentials };
}

// ---------------------------------------------------------------------------------------------
// One warren process, its OSBAPI client and the management API, with cleanup for after().

export interface Env {
  warren: WarrenProcess;
  osb: OsbClient;
  rmq: RabbitAdmin;
  /** Every id a test of this file creates starts with this: cleanup removes what is left by it. */
  prefix: string;
  id(tag: string): string;
  /** Deprovisions (through warren) every instance created, then purges RabbitMQ by prefix, closes all. */
  cleanup(): Promise<void>;
}

export async function startEnv(file: string, opts: StartOptions = {}): Promise<Env> {
  const warren = await startWarrenProcess(opts);
  const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  const rmq = new RabbitAdmin();
  const prefix = `${uid(file)}-`;
  const env: Env = {
    warren,
    osb,
    rmq,
    prefix,
    id: (tag) => `${prefix}${tag}`,
    async cleanup() {
      await closeAllConnections();
      // Through warren first (its store), then whatever RabbitMQ still holds.
      for (const name of (await rmq.vhostNames()).filter((n) => n.startsWith(prefix))) {
        for (const plan of [SMALL_PLAN_ID, STANDARD_PLAN_ID]) {
          const r = await osb.call('DELETE', `${instancePath(name)}?${ids(plan)}`).catch(() => undefined);
          if (r?.status === 200 || r?.status === 410) break;
        }
      }
      await rmq.purgePrefix(prefix);
      await osb.close();
      if (warren.child.exitCode === null && warren.child.signalCode === null) await warren.stop();
      if (!opts.dataDir) rmSync(warren.dataDir, { recursive: true, force: true });
      await rmq.close();
    },
  };
  return env;
}
