// A single error path a real RabbitMQ cannot produce on demand: a deleted user's connection that
// connection tracking keeps listing past the unbind's deadline. The management API is the typed
// in-memory fake (support/fake-rabbit.ts); the store is a real SQLite store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerError } from '../../src/contract/broker-errors.ts';
import { bindDetails, brokerOver, provisionDetails, STANDARD, SYNC } from './support/broker-under-test.ts';
import { FakeRabbit } from './support/fake-rabbit.ts';
import { FaultyStore } from './support/faulty-store.ts';

describe('unbind whose connections outlive the deadline', () => {
  it('answers 503, never serves or revives the revoked credentials, and a retry finishes', async () => {
    const rabbit = new FakeRabbit();
    const store = new FaultyStore();
    const broker = await brokerOver(rabbit, store, (config) => {
      config.rabbitmq.unbind_confirm_timeout_ms = 50;
    });
    await broker.provision('i1', provisionDetails(), SYNC);
    const bound = await broker.bind('i1', 'b1', bindDetails(), SYNC);
    const username = String(bound.credentials.username);
    rabbit.addConnection(username, 'i1');
    rabbit.trackingLag.add(username);

    await assert.rejects(broker.unbind('i1', 'b1', bindDetails(), SYNC), (err: unknown) => {
      assert.ok(err instanceof BrokerError);
      assert.equal(err.status, 503);
      assert.match(err.message, /1 connection\(s\) of user .* still open after 50 ms; repeat the request/);
      return true;
    });
    assert.equal(rabbit.users.has(username), false, 'the user itself is deleted');
    await assert.rejects(broker.getBinding('i1', 'b1', {}), (err: unknown) => err instanceof BrokerError && err.status === 404);
    await assert.rejects(
      broker.bind('i1', 'b1', bindDetails(), SYNC),
      (err: unknown) => err instanceof BrokerError && err.status === 422 && err.code === 'ConcurrencyError',
    );
    assert.deepEqual(await broker.lastBindingOperation('i1', 'b1', {}), { state: 'in progress' });

    // An update must not bring the deleted user back.
    const putsBefore = rabbit.callsOf('putUser').length;
    await broker.update('i1', { serviceId: provisionDetails().serviceId, planId: STANDARD }, SYNC);
    assert.equal(rabbit.callsOf('putUser').length, putsBefore, 'the revoked user was not re-created');
    assert.equal(rabbit.users.has(username), false);

    rabbit.trackingLag.delete(username);
    assert.deepEqual(await broker.unbind('i1', 'b1', bindDetails(STANDARD), SYNC), {});
    assert.equal(await store.getBinding('b1'), undefined);
    assert.deepEqual(await broker.lastBindingOperation('i1', 'b1', {}), { state: 'succeeded', description: 'binding deleted' });
    await store.close();
  });

  it('a stale tracking entry that statistics never knew is taken for gone, but only once statistics must have seen a real one', async () => {
    const rabbit = new FakeRabbit();
    const store = new FaultyStore();
    const broker = await brokerOver(rabbit, store, (config) => {
      config.rabbitmq.unbind_confirm_timeout_ms = 50;
      config.rabbitmq.collect_statistics_interval_ms = 300;
    });
    await broker.provision('i1', provisionDetails(), SYNC);
    const ghostly = String((await broker.bind('i1', 'b1', bindDetails(), SYNC)).credentials.username);
    const live = String((await broker.bind('i1', 'b2', bindDetails(), SYNC)).credentials.username);
    for (const user of [ghostly, live]) {
      rabbit.addConnection(user, 'i1');
      rabbit.trackingLag.add(user);
    }
    rabbit.ghosts.add(ghostly);

    const started = Date.now();
    assert.deepEqual(await broker.unbind('i1', 'b1', bindDetails(), SYNC), {});
    assert.ok(Date.now() - started >= 300 + 1500, 'not before statistics would have listed a live connection');
    assert.equal(await store.getBinding('b1'), undefined);
    assert.equal(rabbit.users.has(ghostly), false);

    // A connection that statistics know is a live one: the unbind keeps refusing.
    await assert.rejects(broker.unbind('i1', 'b2', bindDetails(), SYNC), (err: unknown) => err instanceof BrokerError && err.status === 503);
    assert.ok(rabbit.callsOf('connectionInStatistics').length > 0);
    assert.notEqual(await store.getBinding('b2'), undefined, 'the binding is kept for the retry');
    await store.close();
  });

  it('without statistics (management.disable_stats) a listed connection is never taken for a ghost', async () => {
    const rabbit = new FakeRabbit();
    const store = new FaultyStore();
    const broker = await brokerOver(rabbit, store, (config) => {
      config.rabbitmq.unbind_confirm_timeout_ms = 50;
      config.rabbitmq.collect_statistics_interval_ms = 100;
    });
    await broker.provision('i1', provisionDetails(), SYNC);
    const username = String((await broker.bind('i1', 'b1', bindDetails(), SYNC)).credentials.username);
    rabbit.addConnection(username, 'i1');
    rabbit.trackingLag.add(username);
    rabbit.statsDisabled = true;
    await assert.rejects(broker.unbind('i1', 'b1', bindDetails(), SYNC), (err: unknown) => err instanceof BrokerError && err.status === 503);
    assert.ok(rabbit.callsOf('overview').length > 0, 'it asked whether statistics are collected');
    assert.notEqual(await store.getBinding('b1'), undefined, 'the binding is kept for the retry');
    await store.close();
  });
});
