// Cluster awareness: plan policies the RabbitMQ version rejects or ignores, and vhost deletion
// protection. Only RabbitMQ 3.10 installs here, so the 4.1 protection behaviour is played by a
// fake management server (the one thing a real 3.10 cannot show); what 3.10 answers to the same
// calls is checked against the real node in test/rabbitmq/vhost-protection.test.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertPlanFitsCluster, atLeast, catalogProblems, parseVersion, planProblems } from '../../src/broker/policy-compatibility.ts';
import { VhostProtection } from '../../src/broker/vhost-protection.ts';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ClusterProtocols } from '../../src/broker/cluster-protocols.ts';
import { brokerSettings } from '../../src/app/to-settings.ts';
import { RabbitServiceBroker } from '../../src/broker/rabbitmq-service-broker.ts';
import { ServiceCatalog } from '../../src/broker/service-catalog.ts';
import type { RabbitManagement } from '../../src/rabbitmq/management-api.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { PlanConfig } from '../../src/config/config-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { BrokerError } from '../../src/contract/broker-errors.ts';
import { createManagementClient, ManagementError, type ManagementClient } from '../../src/rabbitmq/index.ts';
import { startFake, type FakeServer } from '../rabbitmq/helpers/fake-http.ts';

const quiet = { debug: () => undefined };

function plan(policies: Array<Record<string, unknown>>, operator: Array<Record<string, unknown>> = []): PlanConfig {
  const pol = (definition: Record<string, unknown>, i: number) => ({ name: `p${i}`, pattern: '.*', apply_to: 'queues' as const, priority: 0, definition });
  return {
    id: 'plan-id', name: 'legacy', description: '', free: true,
    rabbitmq: {
      vhost_limits: {}, user_limits: {}, permissions: { configure: '.*', write: '.*', read: '.*' }, topic_permissions: [], user_tags: [],
      policies: policies.map(pol), operator_policies: operator.map(pol),
    },
  };
}

describe('plan policies against the cluster version', () => {
  const legacy = plan([{ 'ha-mode': 'all', 'ha-sync-mode': 'automatic' }, { 'queue-mode': 'lazy' }], [{ 'queue-master-locator': 'min-masters' }]);

  it('reads versions the way RabbitMQ reports them', () => {
    assert.deepEqual(parseVersion('3.10.8'), [3, 10, 8]);
    assert.deepEqual(parseVersion('4.1.0-rc.1'), [4, 1, 0]);
    assert.deepEqual(parseVersion('3.13'), [3, 13, 0]);
    assert.equal(parseVersion('unknown'), undefined);
    assert.equal(atLeast('4.1.0', 4, 1), true);
    assert.equal(atLeast('4.0.9', 4, 1), false);
    assert.equal(atLeast('3.12.0', 3, 12), true);
  });

  it('3.10 accepts them all; 3.12 ignores queue-mode; 4.0 also rejects ha-*; 4.3 also refuses queue-master-locator', () => {
    const keys = (v: string) => planProblems(legacy, v).map((p) => `${p.list}/${p.policy}/${p.key}/${p.kind}`);
    assert.deepEqual(keys('3.10.8'), []);
    assert.deepEqual(keys('3.12.14'), ['policies/p1/queue-mode/ignored']);
    assert.deepEqual(keys('4.0.5'), ['policies/p0/ha-mode/rejected', 'policies/p0/ha-sync-mode/rejected', 'policies/p1/queue-mode/ignored']);
    assert.deepEqual(keys('4.3.0'), [
      'policies/p0/ha-mode/rejected', 'policies/p0/ha-sync-mode/rejected', 'policies/p1/queue-mode/ignored',
      'operator_policies/p0/queue-master-locator/rejected',
    ]);
  });

  it('each message names plan, policy and key, and says what to use instead', () => {
    const msgs = planProblems(legacy, '4.3.0').map((p) => p.message);
    assert.match(msgs[0]!, /^plan "legacy" policy "p0" key "ha-mode": RabbitMQ 4\.3\.0 rejects it .*quorum/);
    assert.match(msgs[2]!, /key "queue-mode": RabbitMQ 4\.3\.0 ignores it .*max-length/);
    assert.match(msgs[3]!, /operator policy "p0" key "queue-master-locator": .*queue-leader-locator/);
  });

  it('a provision or update on such a plan is refused in OSBAPI shape; unknown version lets it through', () => {
    assert.doesNotThrow(() => assertPlanFitsCluster(legacy, undefined));
    assert.doesNotThrow(() => assertPlanFitsCluster(legacy, '3.10.8'));
    const err = (() => {
      try {
        assertPlanFitsCluster(legacy, '4.0.0');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof BrokerError);
    assert.equal(err.status, 422);
    assert.deepEqual(Object.keys(err.body()), ['error', 'description']);
    assert.equal(err.body().error, 'PlanNotSupportedByCluster');
    assert.match(err.message, /plan "legacy" cannot be used on this RabbitMQ cluster .*ha-mode/);
  });

  it('the default catalog and config/warren.example.yml use none of them, on any version', () => {
    const defaults = loadConfig({ env: {} });
    const example = loadConfig({ env: {}, file: new URL('../../config/warren.example.yml', import.meta.url).pathname });
    for (const v of ['3.10.8', '3.12.0', '4.0.0', '4.3.0']) {
      assert.deepEqual(catalogProblems(example.catalog.services, v), [], `example on ${v}`);
      assert.deepEqual(catalogProblems(defaults.catalog.services, v), [], `default on ${v}`);
    }
  });
});

describe('a provision on a plan the cluster version rejects', () => {
  // Only RabbitMQ 3.10 runs here: the 4.0 cluster is a fake that records what it is asked.
  it('answers 422 PlanNotSupportedByCluster before anything is made; other plans still work', async () => {
    const config = loadConfig({ env: {} });
    const service = config.catalog.services[0]!;
    const legacyPlan = { ...service.plans[0]!, id: 'legacy-plan', name: 'legacy', rabbitmq: { ...service.plans[0]!.rabbitmq, policies: [{ name: 'mirror', pattern: '.*', apply_to: 'queues' as const, priority: 0, definition: { 'ha-mode': 'all' } }] } };
    service.plans.push(legacyPlan);
    const calls: string[] = [];
    const rabbit = new Proxy({} as RabbitManagement, {
      get: (_t, prop: string) => async (...args: unknown[]) => {
        calls.push(prop);
        if (prop === 'overview') return { rabbitmq_version: '4.0.5', listeners: [] };
        if (prop.startsWith('list')) return [];
        if (prop.startsWith('get')) return null;
        if (prop.startsWith('put')) return 'created';
        return prop.startsWith('delete') ? true : (void args, undefined);
      },
    });
    const log = pino({ level: 'silent' });
    const protocols = new ClusterProtocols(rabbit, {}, log);
    assert.equal(await protocols.refresh(), true);
    const store = new SqliteStore({ dataDir: ':memory:', key: randomBytes(32) });
    await store.open();
    const broker = new RabbitServiceBroker({
      rabbit, store, deploymentId: await store.deploymentId(), catalog: new ServiceCatalog(config.catalog.services), protocols,
      ...brokerSettings(config), log,
    });
    const ctx = { acceptsIncomplete: false };
    calls.length = 0;
    await assert.rejects(broker.provision('i-legacy', { serviceId: service.id, planId: 'legacy-plan', organizationGuid: 'o', spaceGuid: 's' }, ctx), (err: unknown) => {
      assert.ok(err instanceof BrokerError);
      assert.equal(err.status, 422);
      assert.equal(err.code, 'PlanNotSupportedByCluster');
      assert.match(err.message, /policy "mirror" key "ha-mode": RabbitMQ 4\.0\.5 rejects it .*quorum/);
      return true;
    });
    assert.deepEqual(calls, [], 'nothing was asked of RabbitMQ');
    assert.equal(await store.getInstance('i-legacy'), undefined);
    await broker.provision('i-ok', { serviceId: service.id, planId: service.plans[0]!.id, organizationGuid: 'o', spaceGuid: 's' }, ctx);
    await assert.rejects(broker.update('i-ok', { serviceId: service.id, planId: 'legacy-plan' }, ctx), /PlanNotSupportedByCluster|cannot be used on this RabbitMQ cluster/);
    await store.close();
  });
});

describe('vhost deletion protection', () => {
  const fakes: FakeServer[] = [];
  const protectedVhosts = new Set<string>();
  const vhosts = new Set<string>(['app']);
  const seen: string[] = [];
  const clients: ManagementClient[] = [];
  after(async () => {
    for (const c of clients) await c.close();
    for (const f of fakes) await f.close();
  });

  // RabbitMQ 4.1's answers (rabbit_mgmt_wm_vhost_deletion_protection, rabbit_mgmt_wm_vhost).
  // Each test starts its own client on its own fake server (the vhosts they share are named apart).
  const start = async () => {
    const fake = await startFake((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url}`);
        const prot = /^\/api\/vhosts\/([^/]+)\/deletion\/protection$/.exec(req.url ?? '');
        const vh = /^\/api\/vhosts\/([^/]+)$/.exec(req.url ?? '');
        const name = decodeURIComponent((prot ?? vh)?.[1] ?? '');
        const answer = (status: number, json?: unknown) => {
          const text = json === undefined ? '' : JSON.stringify(json);
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        };
        if (prot && !vhosts.has(name)) return answer(404, { error: 'Object Not Found', reason: 'Not Found' });
        if (prot && req.method === 'POST') return protectedVhosts.add(name), answer(204);
        if (prot && req.method === 'DELETE') return protectedVhosts.delete(name), answer(204);
        if (vh && req.method === 'DELETE') {
          if (!vhosts.has(name)) return answer(404, { error: 'Object Not Found', reason: 'Not Found' });
          if (protectedVhosts.has(name)) {
            return answer(412, { error: 'precondition_failed', reason: `Cannot delete protected virtual host '${name}'` });
          }
          vhosts.delete(name);
          return answer(204);
        }
        answer(404, { error: 'Object Not Found', reason: 'Not Found' });
      });
    });
    fakes.push(fake);
    const c = createManagementClient({ urls: [fake.url], username: 'admin', password: 'admin' });
    clients.push(c);
    return c;
  };

  it('on 4.1: a protected vhost refuses deletion (412) until warren lifts the protection', async () => {
    const rabbit = await start();
    const protection = new VhostProtection(rabbit, { facts: () => ({ version: '4.1.2', readAt: '' }) }, true, quiet);
    assert.equal(protection.supported(), true);
    assert.equal(await protection.protect('app'), 'protected');
    assert.ok(seen.includes('POST /api/vhosts/app/deletion/protection'));
    const refused = await rabbit.deleteVhost('app').catch((e: unknown) => e);
    assert.ok(refused instanceof ManagementError && refused.status === 412, String(refused));
    assert.equal(await protection.release('app'), 'released');
    assert.equal(await rabbit.deleteVhost('app'), true);
    assert.equal(await protection.release('app'), 'unsupported', 'a vhost that is gone: 404, nothing to lift');
  });

  it('before 4.1 nothing is sent; disabled in the configuration, nothing is protected but release still runs', async () => {
    const rabbit = await start();
    const before = seen.length;
    const old = new VhostProtection(rabbit, { facts: () => ({ version: '3.13.7', readAt: '' }) }, true, quiet);
    assert.equal(await old.protect('app'), 'unsupported');
    assert.equal(await old.release('app'), 'unsupported');
    assert.equal(seen.length, before, 'no call to a cluster that cannot do it');
    vhosts.add('app2');
    const off = new VhostProtection(rabbit, { facts: () => ({ version: '4.1.0', readAt: '' }) }, false, quiet);
    assert.equal(await off.protect('app2'), 'disabled');
    assert.equal(await off.release('app2'), 'released');
  });

});
