// RabbitMQ over TLS, for real: a node of the test's own with AMQPS and management HTTPS
// listeners (certificates made now), warren talking to its management API over HTTPS with the
// test CA and verification, the credentials offering amqps (discovered from the listeners), and
// an AMQP client connecting with the amqps URI it was handed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { bindBody, provisionBody, uid } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { pem } from '../support/test-ca.ts';
import { TLS_NODE, rabbitMissing, startTlsRabbitNode, type TlsRabbitNode } from '../support/tls-rabbitmq-node.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const missing = rabbitMissing();

describe('RabbitMQ with TLS listeners', { skip: missing ?? false }, () => {
  let node: TlsRabbitNode;
  let warren: WarrenProcess;
  let untrusting: WarrenProcess;

  before(async () => {
    node = await startTlsRabbitNode({ timeoutMs: 30_000 });
    const config = (name: string, tls: string) => {
      const file = join(TLS_NODE.dir, name);
      writeFileSync(file, [
        'rabbitmq:',
        `  management_urls: ["https://guest:guest@localhost:${TLS_NODE.httpsPort}"]`,
        '  hosts: [127.0.0.1]',
        tls,
        '',
      ].join('\n'));
      return file;
    };
    warren = await startWarrenProcess({ args: ['--config', config('warren.yml', `  management_tls: { ca_file: ${node.ca.caFile} }`)] });
    // Verification is on by default: without the CA, the node's certificate is not trusted.
    untrusting = await startWarrenProcess({ args: ['--config', config('untrusting.yml', '')] });
  });
  after(async () => {
    await untrusting?.stop();
    await warren?.stop();
    await node?.stop();
  });

  it('hands out amqps credentials an AMQP client connects with, through a management API verified over HTTPS', async () => {
    const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
    const id = uid('tls');
    try {
      assert.equal((await osb.call('GET', '/ready')).status, 200);
      const p = await osb.call('PUT', `/v2/service_instances/${id}`, { body: provisionBody() });
      assert.equal(p.status, 201, p.text);
      const b = await osb.call('PUT', `/v2/service_instances/${id}/service_bindings/${id}-b`, { body: bindBody() });
      assert.equal(b.status, 201, b.text);
      const c = b.body.credentials;
      const tls = c.protocols['amqp+ssl'];
      assert.ok(tls, `amqp+ssl offered: ${Object.keys(c.protocols).join(', ')}`);
      assert.equal(tls.port, TLS_NODE.amqpsPort);
      assert.equal(tls.ssl, true);
      assert.match(c.uri, new RegExp(`^amqps://[^@]+@127\\.0\\.0\\.1:${TLS_NODE.amqpsPort}/`), 'prefer_tls: the top-level uri is amqps');
      assert.equal(c.ssl, true);
      assert.ok(c.protocols['management+ssl'], 'management over https offered too');

      const conn = await amqp.connect(c.uri, { ca: [pem(node.ca.caFile)], servername: 'localhost' });
      try {
        const ch = await conn.createChannel();
        const q = await ch.assertQueue('', { exclusive: true });
        ch.sendToQueue(q.queue, Buffer.from('over tls'));
        let got: amqp.GetMessage | false = false;
        for (let i = 0; i < 50 && !got; i++) {
          got = await ch.get(q.queue, { noAck: true });
          if (!got) await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(got && got.content.toString() === 'over tls', 'a message went round over amqps');
      } finally {
        await conn.close().catch(() => undefined);
      }
      await assert.rejects(amqp.connect(c.uri, { timeout: 3000 }), 'without the CA the AMQPS certificate is not trusted');

      const ids = `service_id=${provisionBody().service_id}&plan_id=${provisionBody().plan_id}`;
      assert.equal((await osb.call('DELETE', `/v2/service_instances/${id}/service_bindings/${id}-b?${ids}`)).status, 200);
      assert.equal((await osb.call('DELETE', `/v2/service_instances/${id}?${ids}`)).status, 200);
    } finally {
      await osb.close();
    }
  });

  it('does not trust the node without the CA: not ready, and /ready says so without the address', async () => {
    const osb = new OsbClient({ url: untrusting.url, username: untrusting.username, password: untrusting.password });
    try {
      const ready = await osb.call('GET', '/ready');
      assert.equal(ready.status, 503, ready.text);
      assert.equal(ready.body.checks.rabbitmq.ok, false);
      assert.doesNotMatch(ready.text, /localhost|15742|guest/);
    } finally {
      await osb.close();
    }
  });
});
