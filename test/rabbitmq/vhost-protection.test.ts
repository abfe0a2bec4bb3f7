// Vhost deletion protection against the real RabbitMQ of this machine (3.10, before the
// feature): with the version not known yet warren tries, gets 405, and reports "unsupported";
// the vhost stays deletable. The 4.1 behaviour is in test/units/cluster-awareness.test.ts.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { VhostProtection } from '../../src/broker/vhost-protection.ts';
import { adminClient, uniq } from './helpers/env.ts';

const rabbit = adminClient();
after(() => rabbit.close());

it('version not known yet, real RabbitMQ 3.10: tried, answered 405, reported unsupported; the vhost stays deletable', async () => {
  const vhost = uniq('protect');
  await rabbit.putVhost(vhost);
  try {
    const protection = new VhostProtection(rabbit, { facts: () => undefined }, true, { debug: () => undefined });
    assert.equal(protection.supported(), undefined);
    assert.equal(await protection.protect(vhost), 'unsupported');
    assert.equal(await protection.release(vhost), 'unsupported');
  } finally {
    assert.equal(await rabbit.deleteVhost(vhost), true);
  }
});
