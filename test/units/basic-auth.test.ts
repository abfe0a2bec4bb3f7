import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuthChecker } from '../../src/osbapi/basic-auth.ts';

const header = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('basic auth', () => {
  it('accepts the right credentials, repeatedly, and nothing else', () => {
    const check = basicAuthChecker('warren', 's3cret:with:colons');
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
});
