// A single error path a real RabbitMQ cannot produce on demand: a deleted user's connection that
// connection tracking keeps listing past the unbind's deadline. The fake below stands in for the
// management API only for that; the store is a real SQLite store.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ClusterProtocols } from '../../src/broker/cluster-protocols.ts';
import { brokerSettings } from '../../src/app/to-settings.ts';
import { RabbitServiceBroker } from '../../src/broker/rabbitmq-service-broker.ts';
import { ServiceCatalog } from '../../src/broker/service-catalog.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { BrokerError } from '../../src/contract/broker-errors.ts';
import type { RabbitManagement } from '../../src/rabbitmq/management-api.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

const SERVICE = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0a01';
const SMALL = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b01';
const STANDARD = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b02';

/** Accepts everything; `stuckUser` keeps one listed connection until released. */
function fakeRabbit() {
  const putUsers: string[] = [];
  let stuckUser: string | undefined;
  const ok = async () => 'created' as const;
  const fake = {
    putUsers,
    stick(user: string | undefined) {
      stuckUser = user;
    },
    overview: async () => ({ rabbitmq_version: 'fake', listeners: [] }),
    getVhost: async () => null,
    putVhost: ok, deleteVhost: async () => true,
    getUser: async () => null,
    putUser: async (u: string) => {
      putUsers.push(u);
      return 'created' as const;
    },
    deleteUser: async () => true,
    putPermissions: ok, deletePermissions: async () => true, putTopicPermissions: ok, deleteTopicPermissions: async () => true,
    listVhostPermissions: async () => [],
    putVhostLimit: async () => undefined, deleteVhostLimit: async () => undefined,
    putUserLimit: async () => undefined, deleteUserLimit: async () => undefined,
    putPolicy: ok, deletePolicy: async () => true, listPolicies: async () => [],
    putOperatorPolicy: ok, deleteOperatorPolicy: async () => true, listOperatorPolicies: async () => [],
    listUserConnections: async (u: string) => (u === stuckUser ? [{ name: 'c1', user: u, vhost: 'v' }] : []),
    closeUserConnections: async () => undefined,
  };
  return fake as typeof fake & RabbitManagement;
}

describe('unbind whose connections outlive the deadline', () => {
  it('answers 503, never serves or revives the revoked credentials, and a retry finishes', async () => {
    const config = loadConfig({ env: {} });
    config.rabbitmq.unbind_confirm_timeout_ms = 50;
    const store = new SqliteStore({ dataDir: ':memory:', key: randomBytes(32) });
    await store.open();
    const rabbit = fakeRabbit();
    const log = pino({ level: 'silent' });
    const broker = new RabbitServiceBroker({
      rabbit, store, deploymentId: await store.deploymentId(), catalog: new ServiceCatalog(config.catalog.services), protocols: new ClusterProtocols(rabbit, { amqp: 5672 }, log),
      ...brokerSettings(config), log,
    });
    const ctx = { acceptsIncomplete: false };
    await broker.provision('i1', { serviceId: SERVICE, planId: SMALL, organizationGuid: 'o', spaceGuid: 's' }, ctx);
    const bound = await broker.bind('i1', 'b1', { serviceId: SERVICE, planId: SMALL }, ctx);
    const username = String(bound.credentials.username);
    rabbit.stick(username);

    await assert.rejects(broker.unbind('i1', 'b1', { serviceId: SERVICE, planId: SMALL }, ctx), (err: unknown) => {
      assert.ok(err instanceof BrokerError);
      assert.equal(err.status, 503);
      return true;
    });
    await assert.rejects(broker.getBinding('i1', 'b1', {}), (err: unknown) => err instanceof BrokerError && err.status === 404);
    await assert.rejects(
      broker.bind('i1', 'b1', { serviceId: SERVICE, planId: SMALL }, ctx),
      (err: unknown) => err instanceof BrokerError && err.status === 422 && err.code === 'ConcurrencyError',
    );
    assert.deepEqual(await broker.lastBindingOperation('i1', 'b1', {}), { state: 'in progress' });

    // An update must not bring the deleted user back.
    const putsBefore = rabbit.putUsers.length;
    await broker.update('i1', { serviceId: SERVICE, planId: STANDARD }, ctx);
    assert.equal(rabbit.putUsers.length, putsBefore, 'the revoked user was not re-created');

    rabbit.stick(undefined);
    assert.deepEqual(await broker.unbind('i1', 'b1', { serviceId: SERVICE, planId: STANDARD }, ctx), {});
    assert.equal(await store.getBinding('b1'), undefined);
    assert.deepEqual(await broker.lastBindingOperation('i1', 'b1', {}), { state: 'succeeded', description: 'binding deleted' });
    await store.close();
  });
});
