// What the fuzz tests share: warren's real broker (real RabbitMQ, a real SQLite store) behind
// the OSBAPI server, with every management call that writes recorded, so a rejected request
// can be shown to have changed nothing; and generators of hostile requests for every route.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { brokerSettings } from '../../src/app/to-settings.ts';
import { ClusterProtocols } from '../../src/broker/cluster-protocols.ts';
import { RabbitServiceBroker } from '../../src/broker/rabbitmq-service-broker.ts';
import { ServiceCatalog } from '../../src/broker/service-catalog.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createOsbApiServer, type FastifyInstance } from '../../src/osbapi/osbapi-server.ts';
import { createManagementClient, type RabbitManagement } from '../../src/rabbitmq/index.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { randomBytes } from 'node:crypto';

export const SERVICE = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0a01';
export const SMALL = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b01';
export const USER = 'fuzz';
export const PASS = 'fuzz-pass';
export const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');

export interface FuzzTarget {
  app: FastifyInstance;
  store: SqliteStore;
  /** Management calls that change RabbitMQ, in order ("putVhost x", ...). */
  writes: string[];
  prefix: string;
  seed: { instance: string; binding: string };
  /** Makes the seed instance and binding again if a valid request removed them. */
  ensureSeed(): Promise<void>;
  /** The store's instances and bindings as text: equal before and after means unchanged. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

const READS = new Set(['overview', 'getVhost', 'listVhosts', 'getUser', 'listUsers', 'getUserHash', 'listVhostPermissions', 'listUserPermissions', 'listTopicPermissions', 'getVhostLimits', 'getUserLimits', 'listPolicies', 'listOperatorPolicies', 'listUserConnections', 'connectionInStatistics']);

export async function buildFuzzTarget(): Promise<FuzzTarget> {
  const prefix = `fz-${randomBytes(3).toString('hex')}-`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-fuzz-'));
  const config = loadConfig({ env: {} });
  const store = new SqliteStore({ dataDir, key: randomBytes(32) });
  await store.open();
  const client = createManagementClient({ urls: config.rabbitmq.management_urls, username: 'guest', password: 'guest', connectionsPerNode: 8 });
  const writes: string[] = [];
  const rabbit = new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (!READS.has(String(prop))) writes.push(`${String(prop)} ${String(args[0])}`);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as typeof client & RabbitManagement;
  const log = pino({ level: 'silent' });
  const protocols = new ClusterProtocols(rabbit, { amqp: 5672 }, log);
  const broker = new RabbitServiceBroker({
    rabbit, store, deploymentId: await store.deploymentId(), catalog: new ServiceCatalog(config.catalog.services), protocols,
    ...brokerSettings(config), log,
  });
  const app = await createOsbApiServer({
    broker, credentials: { username: USER, password: PASS }, logger: log, requestBudgetMs: config.operations.request_budget_ms,
    // Bad logins are a fraction of every case here: the login throttle (429) would soon answer
    // everything and hide the routes. It has tests of its own.
    authThrottle: { maxFailures: 1_000_000, windowMs: 1000 },
  });
  await app.ready();
  const seed = { instance: `${prefix}seed`, binding: `${prefix}seed-b` };
  const ctx = { acceptsIncomplete: false };
  const ensureSeed = async () => {
    const inst = await store.getInstance(seed.instance);
    if (inst && inst.planId !== SMALL) await broker.update(seed.instance, { serviceId: SERVICE, planId: SMALL }, ctx);
    if (!inst) await broker.provision(seed.instance, { serviceId: SERVICE, planId: SMALL, organizationGuid: 'o', spaceGuid: 's' }, ctx);
    if (!(await store.getBinding(seed.binding))) await broker.bind(seed.instance, seed.binding, { serviceId: SERVICE, planId: SMALL }, ctx);
  };
  await ensureSeed();
  return {
    app, store, writes, prefix, seed, ensureSeed,
    async snapshot() {
      return JSON.stringify([await store.listInstances(), await store.listAllBindings()]);
    },
    async close() {
      // Whatever valid requests created (their ids all start with prefix) goes, through the broker.
      for (const inst of await store.listInstances()) {
        await broker.deprovision(inst.id, { serviceId: inst.serviceId, planId: inst.planId }, ctx).catch(() => undefined);
      }
      for (const v of (await client.listVhosts()).filter((x) => x.name.startsWith(prefix))) await client.deleteVhost(v.name);
      for (const u of (await client.listUsers()).filter((x) => x.name.startsWith(prefix))) await client.deleteUser(u.name);
      await app.close();
      await client.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Generators.

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  payload?: string;
}

/** Path segments: known ids, fresh valid ids (prefixed: cleanup finds them), and hostile ones. */
export function idArb(known: string[], prefix: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known) },
    { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,30}$/).map((s) => prefix + s) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%00', '%2F', '%2e%2e', '..', '.', '%C0%AF', '%FF', 'a%2Fb', '-', '_x', '~', 'a b', 'a;b', "a'b", 'x%0d%0aSet-Cookie:%20y') },
    { weight: 1, arbitrary: fc.integer({ min: 254, max: 5000 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/).map((s) => prefix + s) },
  );
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const oddString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant(''), fc.integer({ min: 256, max: 70_000 }).map((n) => 'x'.repeat(n)));
const oddValue = fc.oneof(oddString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));

/** A body for the route: often close to valid, with fields dropped, retyped or oversized. */
export function bodyArb(kind: 'provision' | 'update' | 'bind' | 'none', prefix: string): fc.Arbitrary<string | undefined> {
  const valid: Record<string, unknown> =
    kind === 'provision' ? { service_id: SERVICE, plan_id: SMALL, organization_guid: 'org', space_guid: 'space' }
    : kind === 'update' ? { service_id: SERVICE, plan_id: SMALL }
    : kind === 'bind' ? { service_id: SERVICE, plan_id: SMALL }
    : {};
  const keys = [...Object.keys(valid), 'parameters', 'context', 'maintenance_info', 'predecessor_binding_id', 'bind_resource', 'app_guid', 'previous_values'];
  const mutated = fc
    .record({
      drop: fc.oneof({ weight: 3, arbitrary: fc.constant([] as string[]) }, { weight: 2, arbitrary: fc.subarray(Object.keys(valid)) }),
      set: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...keys), oddValue, { maxKeys: 3 }) }),
      extra: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), anyJson, { maxKeys: 2 }),
    })
    .map(({ drop, set, extra }) => {
      const b: Record<string, unknown> = { ...extra, ...valid, ...set };
      for (const k of drop) delete b[k];
      if (typeof b.predecessor_binding_id === 'string' && b.predecessor_binding_id === '') b.predecessor_binding_id = prefix;
      return JSON.stringify(b);
    });
  return fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
    { weight: 1, arbitrary: mutated.chain((s) => fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((n) => s.slice(0, n))) },
    { weight: 1, arbitrary: fc.constantFrom('{', '[]', 'null', '"x"', '123', '{"a":', '{"service_id":1e999}', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"polluted":1}}}') },
  );
}

const versionArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('2.17') },
  { weight: 1, arbitrary: fc.constantFrom('2.0', '2.99', '1.0', '3.0', '', '2', '2.x', ' 2.17', '2.17\t', 'v2.17') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const authArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(AUTH) },
  { weight: 1, arbitrary: fc.constantFrom('Basic ', 'Basic !!!', 'Bearer x', 'basic ' + AUTH.slice(6), 'Basic ' + Buffer.from('fuzz:').toString('base64'), 'Basic ' + Buffer.from('fuzz').toString('base64')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => 'Basic ' + Buffer.from(s).toString('base64')) },
);

/** Headers: each of the three may be missing, odd, or repeated (an array value). */
export const headersArb: fc.Arbitrary<Record<string, string | string[]>> = fc
  .record({
    // Each header is missing one time in eight.
    authorization: fc.option(authArb, { freq: 8, nil: undefined }),
    'x-broker-api-version': fc.option(fc.oneof({ weight: 8, arbitrary: versionArb }, { weight: 1, arbitrary: fc.array(versionArb, { minLength: 2, maxLength: 3 }) }), { freq: 8, nil: undefined }),
    'content-type': fc.option(fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data', ''), { freq: 4, nil: undefined }),
    'x-broker-api-originating-identity': fc.option(fc.oneof(fc.constant('cloudfoundry eyJ1c2VyX2lkIjoiYSJ9'), fc.string({ maxLength: 40 }), fc.constant('kubernetes !!!')), { freq: 2, nil: undefined }),
    'x-broker-api-request-identity': fc.option(fc.string({ maxLength: 40 }), { freq: 2, nil: undefined }),
  })
  .map((h) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
    // Header values cannot hold control characters or non-Latin-1 text on the wire.
    for (const [k, v] of Object.entries(out)) {
      const clean = (s: string) => s.replace(/[^\x20-\x7e]/g, '');
      out[k] = Array.isArray(v) ? v.map(clean) : clean(v);
    }
    return out;
  });

/** Query strings: the right parameters, missing, empty, duplicated, percent-encoded junk. */
export const queryArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(`service_id=${SERVICE}`, `plan_id=${SMALL}`, 'accepts_incomplete=true', 'accepts_incomplete=false', 'operation=x', 'plan_id=', 'service_id='),
      fc.tuple(fc.constantFrom('service_id', 'plan_id', 'operation', 'accepts_incomplete', 'x', ''), fc.string({ unit: 'grapheme', maxLength: 10 })).map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
      fc.constantFrom('%', '%zz=1', '&&', '=', 'plan_id[]=1', 'service_id[a]=b', 'a=%00'),
    ),
    { maxLength: 5 },
  )
  .map((parts) => (parts.length ? `?${parts.join('&')}` : ''));

// ---------------------------------------------------------------------------------------------
// Routes and the invariants every answer must keep.

export interface Route {
  name: string;
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE';
  path: (instance: string, binding: string) => string;
  body: 'provision' | 'update' | 'bind' | 'none';
}

const I = (i: string) => `/v2/service_instances/${i}`;
const B = (i: string, b: string) => `${I(i)}/service_bindings/${b}`;

export const ROUTES: Route[] = [
  { name: 'catalog', method: 'GET', path: () => '/v2/catalog', body: 'none' },
  { name: 'provision', method: 'PUT', path: (i) => I(i), body: 'provision' },
  { name: 'update', method: 'PATCH', path: (i) => I(i), body: 'update' },
  { name: 'deprovision', method: 'DELETE', path: (i) => I(i), body: 'none' },
  { name: 'get instance', method: 'GET', path: (i) => I(i), body: 'none' },
  { name: 'instance last_operation', method: 'GET', path: (i) => `${I(i)}/last_operation`, body: 'none' },
  { name: 'bind', method: 'PUT', path: (i, b) => B(i, b), body: 'bind' },
  { name: 'unbind', method: 'DELETE', path: (i, b) => B(i, b), body: 'none' },
  { name: 'get binding', method: 'GET', path: (i, b) => B(i, b), body: 'none' },
  { name: 'binding last_operation', method: 'GET', path: (i, b) => `${B(i, b)}/last_operation`, body: 'none' },
];

export function requestArb(route: Route, t: Pick<FuzzTarget, 'prefix' | 'seed'>): fc.Arbitrary<FuzzRequest> {
  const ids = idArb([t.seed.instance, t.seed.binding], t.prefix);
  return fc.record({ i: ids, b: ids, headers: headersArb, query: queryArb, payload: bodyArb(route.body, t.prefix) }).map(({ i, b, headers, query, payload }) => ({
    method: route.method,
    url: route.path(i, b) + query,
    headers,
    ...(payload !== undefined ? { payload } : {}),
  }));
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Never a 5xx; always JSON; errors in the OSBAPI shape ({} for 410 Gone). Returns a reason or undefined. */
export function answerProblem(a: Answer): string | undefined {
  if (a.status >= 500) return `status ${a.status}: ${a.text.slice(0, 300)}`;
  if (!/^application\/json\b/.test(a.contentType)) return `content-type ${JSON.stringify(a.contentType)} (status ${a.status})`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `body is not JSON: ${a.text.slice(0, 200)}`;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return `body is not an object: ${a.text.slice(0, 200)}`;
  if (a.status === 410) return Object.keys(body).length === 0 ? undefined : `410 with a body: ${a.text.slice(0, 200)}`;
  if (a.status >= 400) {
    const e = body as { error?: unknown; description?: unknown };
    if (typeof e.error !== 'string' || typeof e.description !== 'string' || e.description === '') return `error without the OSBAPI shape: ${a.text.slice(0, 200)}`;
  }
  return undefined;
}
