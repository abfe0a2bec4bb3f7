// Typed errors from the real API: status, RabbitMQ's error/reason, method, path, node; and no
// credentials anywhere in what an error shows (message, stack, inspect, JSON).
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  createManagementClient,
  ManagementError,
  ManagementClientError,
} from '../../src/rabbitmq/index.ts';
import { ADMIN_USER, MGMT_URL, adminClient, uniq, urlWithCredentials } from './helpers/env.ts';

const mc = adminClient();
after(() => mc.close());

/** Everything an error might leak through: message, stack, own properties, cause chain. */
function everything(err: unknown): string {
  return [String(err), (err as Error).stack ?? '', inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err)].join('\n');
}

async function caught(p: Promise<unknown>): Promise<ManagementError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ManagementError, `expected ManagementError, got ${String(err)}`);
    assert.ok(err instanceof ManagementClientError);
    return err;
  }
  assert.fail('expected a rejection');
}

it('permissions on a missing vhost: 400 bad_request with its reason', async () => {
  const vhost = uniq('missing-vh');
  const err = await caught(mc.putPermissions(vhost, ADMIN_USER, { configure: '', write: '', read: '' }));
  assert.equal(err.status, 400);
  assert.equal(err.error, 'bad_request');
  assert.equal(err.reason, 'vhost_or_user_not_found');
  assert.equal(err.method, 'PUT');
  assert.equal(err.path, `/api/permissions/${vhost}/${ADMIN_USER}`);
  assert.equal(err.node, MGMT_URL);
  assert.match(err.message, /400.*vhost_or_user_not_found/);
});

it('a reason given as an array is normalized to a string', async () => {
  const user = uniq('missing-user');
  const err = await caught(mc.putUserLimit(user, 'max-connections', 1));
  assert.equal(err.status, 400);
  assert.equal(err.reason, `no_such_user: ${user}`);
});

it('a policy on a missing vhost: 404 not_found/vhost_not_found; a bad definition: 400', async () => {
  let err = await caught(mc.putPolicy(uniq('missing-vh'), 'p', { pattern: '.*', definition: { 'max-length': 1 } }));
  assert.equal(err.status, 404);
  assert.equal(err.error, 'not_found');
  assert.equal(err.reason, 'vhost_not_found');
  err = await caught(mc.putPolicy('/', uniq('bad-pol'), { pattern: '.*', definition: { 'max-length': 'lots' } }));
  assert.equal(err.status, 400);
  assert.equal(err.error, 'bad_request');
  assert.match(err.reason, /max/);
});

it('lists on a missing vhost are 404 errors, not empty lists', async () => {
  const err = await caught(mc.listVhostPermissions(uniq('missing-vh')));
  assert.equal(err.status, 404);
});

for (const form of ['userinfo', 'options'] as const) {
  it(`wrong admin password (${form}): 401 ManagementError, no password anywhere, not retried`, async () => {
    const password = 'Wr0ng-P4ss-' + Math.random().toString(36).slice(2);
    const bad =
      form === 'userinfo'
        ? createManagementClient({ urls: urlWithCredentials(MGMT_URL, ADMIN_USER, password) })
        : createManagementClient({ urls: [MGMT_URL], username: ADMIN_USER, password });
    try {
      const err = await caught(bad.overview());
      assert.equal(err.status, 401);
      assert.equal(err.node, MGMT_URL);
      const shown = everything(err);
      assert.ok(!shown.includes(password), 'the error shows the password');
      assert.ok(!shown.includes(Buffer.from(`${ADMIN_USER}:${password}`).toString('base64')), 'the error shows the Authorization header');
      assert.equal(bad.stats().counters.attempts, 1, 'a 401 is an answer, not a reason to retry');
    } finally {
      await bad.close();
    }
  });
}

it('configuration errors name a URL by position, never by content', () => {
  const password = 'C0nfig-Secret';
  for (const urls of [`http://admin:${password}@[bad`, `ftp://admin:${password}@host`]) {
    assert.throws(
      () => createManagementClient({ urls: ['http://a:b@127.0.0.1:1', urls] }),
      (err: unknown) => err instanceof TypeError && /#2/.test(err.message) && !everything(err).includes(password),
    );
  }
  assert.throws(() => createManagementClient({ urls: ['http://127.0.0.1:15672'] }), /no credentials/);
  assert.throws(() => createManagementClient({ urls: [] }), /at least one URL/);
});
