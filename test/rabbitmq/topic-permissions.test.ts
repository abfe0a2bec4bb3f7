// Topic permissions round trip, including their removal (plan updates clear the old ones).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createManagementClient, type ManagementClient } from '../../src/rabbitmq/index.ts';

describe('topic permissions', () => {
  let client: ManagementClient;
  const vhost = `tp-${randomBytes(4).toString('hex')}`;
  const user = `${vhost}-u`;

  before(async () => {
    client = createManagementClient({ urls: ['http://guest:guest@127.0.0.1:15672'] });
    await client.putVhost(vhost);
    await client.putUser(user, { password: randomBytes(12).toString('hex') });
  });
  after(async () => {
    await client.deleteUser(user);
    await client.deleteVhost(vhost);
    await client.close();
  });

  it('puts, removes all, and reports when there were none', async () => {
    assert.equal(await client.putTopicPermissions(vhost, user, { exchange: 'amq.topic', write: '^a', read: '.*' }), 'created');
    // RabbitMQ keys topic permissions by (vhost, user): a second exchange answers 204 ('existed').
    assert.ok(['created', 'existed'].includes(await client.putTopicPermissions(vhost, user, { exchange: 'events', write: '.*', read: '.*' })));
    assert.equal(await client.deleteTopicPermissions(vhost, user), true);
    assert.equal(await client.deleteTopicPermissions(vhost, user), false);
  });
});
