// The broker's domain against answers a real RabbitMQ (or database) gives only in rare moments,
// made on demand by typed fakes of its two ports (support/fake-rabbit.ts: RabbitManagement,
// support/faulty-store.ts: Store). Each case checks the answer the platform gets AND what is
// left in RabbitMQ and in the store. No process, network or RabbitMQ: these run under coverage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerError } from '../../src/contract/broker-errors.ts';
import { bindDetails, brokerOver, provisionDetails, SYNC } from './support/broker-under-test.ts';
import { FakeRabbit, noNodeAnswered, rabbitAnswered } from './support/fake-rabbit.ts';
import { FaultyStore, databaseGone } from './support/faulty-store.ts';

/** The broker error a call rejects with (fails the test when it resolves or throws anything else). */
async function brokerErrorOf(p: Promise<unknown>): Promise<BrokerError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BrokerError, `not a BrokerError: ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

async function setUp() {
  const rabbit = new FakeRabbit();
  const store = new FaultyStore();
  const broker = await brokerOver(rabbit, store);
  await broker.provision('i1', provisionDetails(), SYNC);
  return { rabbit, store, broker };
}

/** Binding users (everything but the administrator) RabbitMQ holds. */
const bindingUsers = (rabbit: FakeRabbit) => [...rabbit.users.keys()].filter((u) => u !== 'guest');

describe('bind, when RabbitMQ says the user exists already', () => {
  it('answers 502 and its rollback leaves that user, which is not warren\'s, alone', async () => {
    const { rabbit, store, broker } = await setUp();
    // Someone else's user of the same name appears between warren's choice of name and its PUT.
    rabbit.failWhen('putUser', (call) => {
      const name = String(call.args[0]);
      rabbit.addForeignUser(name, ['someone-else']);
      return rabbitAnswered(400, 'bad_request', 'user_already_exists', 'PUT', `/api/users/${name}`);
    });
    const err = await brokerErrorOf(broker.bind('i1', 'b1', bindDetails(), SYNC));
    assert.equal(err.status, 502, err.message);
    assert.match(err.message, /^binding failed: RabbitMQ answered 400 \(bad_request\) to PUT on users/);
    const [theirs] = bindingUsers(rabbit);
    assert.ok(theirs, 'the other user is still in RabbitMQ');
    assert.deepEqual(rabbit.users.get(theirs)?.tags, ['someone-else']);
    assert.deepEqual(rabbit.callsOf('deleteUser'), [], 'the rollback deleted no user');
    assert.equal(await store.getBinding('b1'), undefined, 'no binding row left');
    assert.equal((await broker.lastBindingOperation('i1', 'b1', {})).state, 'failed');
  });

  it('still removes its own half-made user when a later step fails', async () => {
    const { rabbit, store, broker } = await setUp();
    rabbit.failWhen('putPermissions', (call) => (call.args[1] === 'guest' ? undefined : rabbitAnswered(500, '', '', 'PUT', '/api/permissions/i1/x')));
    const err = await brokerErrorOf(broker.bind('i1', 'b1', bindDetails(), SYNC));
    assert.equal(err.status, 502, err.message);
    assert.deepEqual(bindingUsers(rabbit), [], 'the user warren made was deleted again');
    assert.equal(rabbit.callsOf('deleteUser').length, 1);
    assert.equal(await store.getBinding('b1'), undefined);
  });
});

describe('unbind, when RabbitMQ answers 500 to deleting the user', () => {
  it('succeeds when the user is in fact gone (an earlier attempt deleted it)', async () => {
    const { rabbit, store, broker } = await setUp();
    const { credentials } = await broker.bind('i1', 'b1', bindDetails(), SYNC);
    const username = String(credentials.username);
    rabbit.failWhen('deleteUser', () => {
      rabbit.users.delete(username); // deleted, but the answer is a 500
      return rabbitAnswered(500, '', '', 'DELETE', `/api/users/${username}`);
    });
    assert.deepEqual(await broker.unbind('i1', 'b1', bindDetails(), SYNC), {});
    assert.equal(rabbit.users.has(username), false);
    assert.equal(await store.getBinding('b1'), undefined, 'the binding row is gone');
    assert.deepEqual(await broker.lastBindingOperation('i1', 'b1', {}), { state: 'succeeded', description: 'binding deleted' });
  });

  it('fails, keeping the binding to delete, when the user is still there', async () => {
    const { rabbit, store, broker } = await setUp();
    const { credentials } = await broker.bind('i1', 'b1', bindDetails(), SYNC);
    const username = String(credentials.username);
    rabbit.failWhen('deleteUser', () => rabbitAnswered(500, '', '', 'DELETE', `/api/users/${username}`));
    const err = await brokerErrorOf(broker.unbind('i1', 'b1', bindDetails(), SYNC));
    assert.equal(err.status, 502, err.message);
    assert.equal(rabbit.users.has(username), true);
    assert.equal((await store.getBinding('b1', { withCredentials: false }))?.state, 'deleting', 'a retry finishes it');
    assert.deepEqual(await broker.unbind('i1', 'b1', bindDetails(), SYNC), {});
    assert.equal(rabbit.users.has(username), false);
  });
});

describe('bind, when the store fails', () => {
  it('before the user exists: 503, and nothing is made in RabbitMQ', async () => {
    const { rabbit, store, broker } = await setUp();
    // The bind's row goes in with its operation: that write fails.
    store.failWhen('beginOperation', (call) => (JSON.stringify(call.args[0]).includes('"kind":"bind"') ? databaseGone() : undefined));
    const err = await brokerErrorOf(broker.bind('i1', 'b1', bindDetails(), SYNC));
    assert.equal(err.status, 503, err.message);
    assert.match(err.message, /the broker's database is unavailable/);
    assert.deepEqual(rabbit.callsOf('putUser'), []);
    assert.deepEqual(bindingUsers(rabbit), []);
  });

  it('after the user was made: 503, and no user is left in RabbitMQ', async () => {
    const { rabbit, store, broker } = await setUp();
    // The binding turns ready with the operation's outcome, in one write: that write fails.
    store.failWhen('finishOperation', (call) => {
      const outcome = call.args[2];
      return typeof outcome === 'object' && outcome !== null && 'effect' in outcome && JSON.stringify(outcome.effect).includes('"ready"') ? databaseGone() : undefined;
    });
    const err = await brokerErrorOf(broker.bind('i1', 'b1', bindDetails(), SYNC));
    assert.equal(err.status, 503, err.message);
    assert.match(err.message, /^binding failed: the broker's database is unavailable; try again shortly$/);
    assert.equal(rabbit.callsOf('putUser').length, 1, 'the user had been made');
    assert.deepEqual(bindingUsers(rabbit), [], 'and was deleted again');
    assert.equal(await store.getBinding('b1'), undefined);
    await assert.rejects(broker.getBinding('i1', 'b1', {}), (e: unknown) => e instanceof BrokerError && e.status === 404);
  });
});

describe('provision, when no management node answers', () => {
  it('503 naming RabbitMQ unreachable; no vhost and no instance left', async () => {
    const rabbit = new FakeRabbit();
    const store = new FaultyStore();
    const broker = await brokerOver(rabbit, store);
    rabbit.failWhen('putVhostLimit', () => noNodeAnswered('PUT', '/api/vhost-limits/i2/max-connections'));
    const err = await brokerErrorOf(broker.provision('i2', provisionDetails(), SYNC));
    assert.equal(err.status, 503, err.message);
    assert.match(err.message, /the RabbitMQ management API is unreachable/);
    assert.equal(rabbit.vhosts.has('i2'), false, 'the vhost was rolled back');
    assert.equal(await store.getInstance('i2'), undefined);
  });
});
