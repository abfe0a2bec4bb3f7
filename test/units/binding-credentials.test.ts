import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingCredentials } from '../../src/broker/binding-credentials.ts';
import { protocolsFromListeners } from '../../src/broker/cluster-protocols.ts';

const base = {
  username: 'b1-abc',
  password: 'p@ss/w:rd%',
  vhost: 'tenant/one #1',
  hosts: ['10.0.0.1', '10.0.0.2'],
  managementUrls: ['https://rmq.example.com', 'https://rmq2.example.com:8443'],
  preferTls: true,
};

describe('binding credentials', () => {
  it('percent-encodes user, password and vhost in every URI and lists every host', () => {
    const c = bindingCredentials({ ...base, ports: { amqp: 5672, management: 15672 } }) as any;
    assert.equal(c.uris.length, 2);
    for (const uri of c.uris as string[]) {
      const u = new URL(uri);
      assert.equal(decodeURIComponent(u.username), base.username);
      assert.equal(decodeURIComponent(u.password), base.password);
      assert.equal(decodeURIComponent(u.pathname.slice(1)), base.vhost);
      assert.equal(u.protocol, 'amqp:');
    }
    assert.deepEqual(c.hostnames, base.hosts);
    assert.equal(c.ssl, false);
    assert.equal(c.protocols['amqp+ssl'], undefined, 'no TLS entry when the cluster offers no TLS');
    assert.equal(c.http_api_uris[1], `https://b1-abc:${encodeURIComponent(base.password)}@rmq2.example.com:8443/api/`);
    assert.equal(c.protocols['management+ssl'].ssl, true);
    assert.equal(c.protocols['management+ssl'].port, 443);
  });

  it('describes TLS truthfully and prefers it for the top-level uri when offered', () => {
    const c = bindingCredentials({ ...base, ports: { amqp: 5672, 'amqp+ssl': 5671, 'mqtt+ssl': 8883 } }) as any;
    assert.equal(c.ssl, true);
    assert.match(c.uri, /^amqps:\/\/.*:5671\//);
    assert.equal(c.protocols.amqp.ssl, false);
    assert.equal(c.protocols['amqp+ssl'].ssl, true);
    assert.equal(c.protocols['amqp+ssl'].port, 5671);
    assert.equal(c.protocols['mqtt+ssl'].username, `${base.vhost}:${base.username}`);
    assert.match(c.protocols['mqtt+ssl'].uri, /^mqtts:\/\//);
    const plain = bindingCredentials({ ...base, preferTls: false, ports: { amqp: 5672, 'amqp+ssl': 5671 } }) as any;
    assert.match(plain.uri, /^amqp:\/\//);
  });

  it('carries the servicebinding.io keys as flat strings beside the Go broker\'s shape', () => {
    const plain = bindingCredentials({ ...base, ports: { amqp: 5672, management: 15672 } }) as any;
    assert.equal(plain.type, 'rabbitmq');
    assert.equal(plain.provider, 'warren');
    assert.deepEqual([plain.host, plain.port, plain.addresses], ['10.0.0.1', '5672', '10.0.0.1:5672,10.0.0.2:5672']);
    assert.ok(!('tls_port' in plain) && !('tls_uri' in plain) && !('tls_addresses' in plain));
    const tls = bindingCredentials({ ...base, hosts: ['10.0.0.1', '::1'], ports: { amqp: 5672, 'amqp+ssl': 5671 } }) as any;
    assert.deepEqual([tls.host, tls.port], ['10.0.0.1', '5671'], 'host and port describe the same listener as uri');
    assert.match(tls.uri, /^amqps:\/\/.*@10\.0\.0\.1:5671\//);
    assert.deepEqual([tls.tls_port, tls.tls_addresses], ['5671', '10.0.0.1:5671,[::1]:5671']);
    assert.equal(tls.tls_uri, tls.protocols['amqp+ssl'].uri);
    for (const c of [plain, tls]) {
      for (const [key, value] of Object.entries(c)) {
        if (!['hostnames', 'uris', 'http_api_uris', 'protocols', 'ssl'].includes(key)) assert.equal(typeof value, 'string', `${key} is a string`);
      }
    }
    // The Go broker's keys keep their types.
    assert.equal(tls.ssl, true);
    assert.equal(typeof tls.protocols['amqp+ssl'].port, 'number');
  });

  it('brackets IPv6 hosts in URIs', () => {
    const c = bindingCredentials({ ...base, hosts: ['::1'], ports: { amqp: 5672 } }) as any;
    assert.equal(new URL(c.uri).hostname, '[::1]');
  });

  it('maps RabbitMQ listeners to protocols', () => {
    const listeners = [
      { protocol: 'amqp', port: 5672, node: 'n', ip_address: '::' },
      { protocol: 'amqp/ssl', port: 5671, node: 'n', ip_address: '::' },
      { protocol: 'clustering', port: 25672, node: 'n', ip_address: '::' },
      { protocol: 'http', port: 15672, node: 'n', ip_address: '::' },
      { protocol: 'stomp', port: 61613, node: 'n', ip_address: '::' },
    ];
    assert.deepEqual(protocolsFromListeners(listeners), { amqp: 5672, 'amqp+ssl': 5671, management: 15672, stomp: 61613 });
  });
});
