// SecretBox and the credentials wrapper around it: AES-256-GCM, key ids, clean errors.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CredentialsDecryptError, openCredentials, sealCredentials } from '../../src/store/credentials-crypto.ts';
import { SecretBox, SecretBoxError, keyIdOf } from '../../src/store/secret-box.ts';

const key = randomBytes(32);
const box = new SecretBox(key);

/** Flips one bit of the sealed body (after the base64 decode), keeping the format valid. */
function tamper(sealed: string, at: number): string {
  const [v, kid, b64] = sealed.split(':') as [string, string, string];
  const body = Buffer.from(b64, 'base64');
  body[at] = body[at]! ^ 1;
  return `${v}:${kid}:${body.toString('base64')}`;
}

describe('SecretBox', () => {
  it('round-trips text, including unicode and the empty string', () => {
    for (const text of ['s3cret', '', 'ünïcødé ✓ 🐇', 'x'.repeat(10_000)]) {
      assert.equal(box.open(box.seal(text, 'ctx'), 'ctx'), text);
    }
  });

  it('seals as v1:<key id>:<base64 of 12-byte IV, ciphertext, 16-byte tag>, with a fresh IV each time', () => {
    const a = box.seal('same', 'ctx');
    const b = box.seal('same', 'ctx');
    assert.notEqual(a, b);
    const [v, kid, b64] = a.split(':');
    assert.equal(v, 'v1');
    assert.equal(kid, box.keyId);
    assert.equal(kid, keyIdOf(key));
    assert.equal(Buffer.from(b64!, 'base64').length, 12 + 'same'.length + 16);
    assert.notEqual(a.split(':')[2]!.slice(0, 16), b.split(':')[2]!.slice(0, 16), 'IVs must differ');
  });

  it('detects any change to IV, ciphertext or tag', () => {
    const sealed = box.seal('payload', 'ctx');
    const len = Buffer.from(sealed.split(':')[2]!, 'base64').length;
    for (const at of [0, 11, 12, len - 17, len - 1]) {
      assert.throws(() => box.open(tamper(sealed, at), 'ctx'), { name: 'SecretBoxError', message: /authentication failed/ });
    }
  });

  it('binds a value to its context (AAD)', () => {
    assert.throws(() => box.open(box.seal('payload', 'binding:a'), 'binding:b'), /authentication failed/);
  });

  it('names key ids, never keys, when the key is wrong', () => {
    const other = randomBytes(32);
    const err = (() => {
      try {
        new SecretBox(other).open(box.seal('payload', 'ctx'), 'ctx');
      } catch (e) {
        return e;
      }
      assert.fail('opened with the wrong key');
    })();
    assert.ok(err instanceof SecretBoxError);
    assert.match(err.message, new RegExp(`encrypted with key ${box.keyId}, but the configured encryption key is ${keyIdOf(other)}`));
    for (const k of [key, other]) for (const enc of ['hex', 'base64'] as const) assert.ok(!err.message.includes(k.toString(enc)));
    assert.ok(!err.message.includes('payload'));
  });

  it('opens values sealed with a previous key (rotation), and seals with the current one', () => {
    const oldSealed = box.seal('legacy', 'ctx');
    const rotated = new SecretBox(randomBytes(32), [key]);
    assert.equal(rotated.open(oldSealed, 'ctx'), 'legacy');
    assert.equal(rotated.seal('new', 'ctx').split(':')[1], rotated.keyId);
  });

  it('rejects keys that are not 32 bytes', () => {
    assert.throws(() => new SecretBox(randomBytes(16)), /must be 32 bytes, got 16/);
    assert.throws(() => new SecretBox(key, [randomBytes(31)]), /must be 32 bytes, got 31/);
  });

  it('rejects values that are not sealed, or truncated', () => {
    assert.throws(() => box.open('{"password":"x"}', 'ctx'), /not in a sealed format/);
    assert.throws(() => box.open(`v2:${box.keyId}:AAAA`, 'ctx'), /not in a sealed format/);
    assert.throws(() => box.open(`v1:${box.keyId}:AAAA`, 'ctx'), /truncated/);
  });
});

describe('binding credentials', () => {
  const creds = { username: 'u', password: 'hunter2-very-secret' };

  it('round-trip, and null stays null', () => {
    assert.deepEqual(openCredentials(box, 'b1', sealCredentials(box, 'b1', creds)), creds);
    assert.equal(sealCredentials(box, 'b1', null), null);
    assert.equal(openCredentials(box, 'b1', null), null);
  });

  it('do not open on another binding (sealed value moved between rows)', () => {
    assert.throws(() => openCredentials(box, 'b2', sealCredentials(box, 'b1', creds)), (err: unknown) => {
      assert.ok(err instanceof CredentialsDecryptError);
      assert.equal(err.bindingId, 'b2');
      assert.match(err.message, /^cannot decrypt the stored credentials of binding b2: authentication failed/);
      return true;
    });
  });

  it('fail without echoing the plaintext, even when it is not JSON', () => {
    const notJson = box.seal('hunter2-not-json', 'warren:binding-credentials:b3');
    assert.throws(() => openCredentials(box, 'b3', notJson), (err: unknown) => {
      assert.ok(err instanceof CredentialsDecryptError);
      assert.match(err.message, /binding b3: the decrypted value is not JSON/);
      assert.ok(!err.message.includes('hunter2'));
      return true;
    });
  });
});
