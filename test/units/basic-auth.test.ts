import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuthChecker, triedUsername } from '../../src/osbapi/basic-auth.ts';
import { LoginThrottle } from '../../src/osbapi/login-throttle.ts';

const header = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('basic auth', () => {
  it('accepts the right credentials, repeatedly, and nothing else', () => {
    const check = basicAuthChecker({ username: 'warren', password: 's3cret:with:colons' });
    const good = header('warren', 's3cret:with:colons');
    assert.equal(check(good), true);
    assert.equal(check(good), true, 'the remembered header still matches');
    for (const bad of [
      undefined, '', 'Basic', 'Bearer abc', header('warren', 's3cret:with:colonz'), header('warren', ''),
      header('Warren', 's3cret:with:colons'), good.replace('Basic', 'Digest'),
    ]) {
      assert.equal(check(bad), false, String(bad));
    }
    assert.equal(check(good.replace('Basic', 'basic')), true, 'the scheme is case-insensitive');
  });

  it('reads replaced credentials at once, and forgets the header accepted before', () => {
    let creds = { username: 'warren', password: 'old-pass' };
    const check = basicAuthChecker(() => creds);
    assert.equal(check(header('warren', 'old-pass')), true);
    creds = { username: 'warren', password: 'new-pass' };
    assert.equal(check(header('warren', 'old-pass')), false, 'the old password stops working');
    assert.equal(check(header('warren', 'new-pass')), true);
  });

  it('names the tried username for the log, never the password', () => {
    assert.equal(triedUsername(header('admin', 'hunter2')), 'admin');
    assert.equal(triedUsername('Basic ' + Buffer.from('no-colon-maybe-a-password').toString('base64')), undefined);
    assert.equal(triedUsername('Bearer x'), undefined);
    assert.equal(triedUsername(undefined), undefined);
  });
});

describe('login throttle', () => {
  it('throttles an address after N failures in the window, with the seconds to wait, then lets it try again', () => {
    const t = new LoginThrottle({ maxFailures: 3, windowMs: 10_000 });
    const t0 = 1_000_000;
    assert.equal(t.fail('10.0.0.1', t0), false);
    assert.equal(t.fail('10.0.0.1', t0 + 1000), false);
    assert.equal(t.retryAfter('10.0.0.1', t0 + 1500), 0);
    assert.equal(t.fail('10.0.0.1', t0 + 2000), true, 'the third failure throttles');
    assert.equal(t.retryAfter('10.0.0.1', t0 + 2000), 8, 'until the oldest failure leaves the window');
    assert.equal(t.retryAfter('10.0.0.2', t0 + 2000), 0, 'other addresses are not affected');
    assert.equal(t.retryAfter('10.0.0.1', t0 + 10_001), 0, 'free again once a failure aged out');
  });

  it('remembers a bounded number of addresses', () => {
    const t = new LoginThrottle({ maxFailures: 1, windowMs: 60_000, maxAddresses: 2 });
    t.fail('a', 1);
    t.fail('b', 2);
    t.fail('c', 3);
    assert.equal(t.retryAfter('a', 4), 0, 'the oldest address was forgotten');
    assert.ok(t.retryAfter('c', 4) > 0);
  });
});
