import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagementUrlError, parseManagementUrl } from '../../src/rabbitmq/management-url.ts';

describe('management URL', () => {
  it('splits scheme, host, port, path prefix and a percent-decoded account', () => {
    const u = parseManagementUrl('https://adm%40in:p%3Ass@[::1]:15671/rabbit/api/', 'u');
    assert.deepEqual(u, {
      tls: true, protocol: 'https:', origin: 'https://[::1]:15671', hostPort: '[::1]:15671', host: '::1', port: 15671,
      pathPrefix: '/rabbit', base: 'https://[::1]:15671/rabbit', username: 'adm@in', password: 'p:ss',
    });
    const plain = parseManagementUrl('http://rmq.internal', 'u');
    assert.deepEqual([plain.port, plain.hostPort, plain.base, plain.username, plain.password], [80, 'rmq.internal', 'http://rmq.internal', undefined, undefined]);
    assert.equal(parseManagementUrl('https://rmq.internal/', 'u').port, 443);
  });

  it('names the URL by its label only, never repeating a password', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://admin:hunter2%@h:15672', /^x: the password in the URL is not valid percent-encoding/],
      ['ftp://admin:hunter2@h', /^x: scheme must be http or https, not ftp$/],
      ['admin:hunter2@h:15672', /^x: /],
      ['http://admin:hunter2@[::1', /^x: not a valid URL/],
    ];
    for (const [raw, message] of cases) {
      assert.throws(() => parseManagementUrl(raw, 'x'), (err: Error) => {
        assert.ok(err instanceof ManagementUrlError);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    }
  });
});
