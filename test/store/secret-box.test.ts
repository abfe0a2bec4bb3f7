// SecretBox and the credentials wrapper around it: AES-256-GCM, key ids, clean errors.

import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CredentialsDecryptError, openCredentials, sealCredentials } from '../../src/store/credentials-crypto.ts';
import { Keyring } from '../../src/store/keyring.ts';
import { SecretBox, SecretBoxError, keyIdOf, sealedLabel } from '../../src/store/secret-box.ts';

/** The format releases before labelled keys wrote: v1:<key id>:<base64(iv, ciphertext, tag)>. */
function legacySeal(k: Buffer, text: string, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', k, iv, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad));
  return `v1:${keyIdOf(k)}:${Buffer.concat([iv, c.update(text, 'utf8'), c.final(), c.getAuthTag()]).toString('base64')}`;
}

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

  it('seals as v2:<key label>:<base64 of 12-byte IV, ciphertext, 16-byte tag>, with a fresh IV each time', () => {
    const a = box.seal('same', 'ctx');
    const b = box.seal('same', 'ctx');
    assert.notEqual(a, b);
    const [v, label, b64] = a.split(':');
    assert.equal(v, 'v2');
    assert.equal(label, 'default');
    assert.equal(sealedLabel(a), 'default');
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

  it('names the missing label, never keys, when no configured key has it', () => {
    const other = randomBytes(32);
    const err = (() => {
      try {
        new SecretBox(new Keyring([{ label: 'k2', key: other }])).open(box.seal('payload', 'ctx'), 'ctx');
      } catch (e) {
        return e;
      }
      assert.fail('opened without the key');
    })();
    assert.ok(err instanceof SecretBoxError);
    assert.match(err.message, /encrypted with the key labelled "default", which is not configured \(configured: k2\)/);
    for (const k of [key, other]) for (const enc of ['hex', 'base64'] as const) assert.ok(!err.message.includes(k.toString(enc)));
    assert.ok(!err.message.includes('payload'));
  });

  it('a different key under the same label fails authentication', () => {
    assert.throws(() => new SecretBox(randomBytes(32)).open(box.seal('payload', 'ctx'), 'ctx'), /authentication failed/);
  });

  it('seals with the primary and opens with the key the label names; a replaced keyring applies at once', () => {
    const ring = new Keyring([{ label: 'old', key }]);
    const rotating = new SecretBox(ring);
    const oldSealed = rotating.seal('before', 'ctx');
    ring.replace([{ label: 'new', key: randomBytes(32) }, { label: 'old', key }]);
    const newSealed = rotating.seal('after', 'ctx');
    assert.equal(sealedLabel(newSealed), 'new');
    assert.equal(rotating.open(oldSealed, 'ctx'), 'before');
    assert.equal(rotating.open(newSealed, 'ctx'), 'after');
    ring.replace([{ label: 'old', key }, { label: 'new', key: randomBytes(32) }], 'new');
    assert.equal(sealedLabel(rotating.seal('x', 'ctx')), 'new', 'primary chosen by label');
  });

  it('opens legacy v1 values (no label) with the key whose id they name', () => {
    const legacy = legacySeal(key, 'from an old release', 'ctx');
    assert.match(legacy, new RegExp(`^v1:${keyIdOf(key)}:`));
    const ring = new SecretBox(new Keyring([{ label: 'new', key: randomBytes(32) }, { label: 'default', key }]));
    assert.equal(ring.open(legacy, 'ctx'), 'from an old release');
    assert.throws(() => new SecretBox(randomBytes(32)).open(legacy, 'ctx'), /no configured encryption key has that id/);
  });

  it('refuses bad labels, duplicate labels and an unknown primary', () => {
    assert.throws(() => new Keyring([{ label: 'a b', key }]), /label "a b" must be/);
    assert.throws(() => new Keyring([{ label: 'a', key }, { label: 'a', key: randomBytes(32) }]), /used twice/);
    assert.throws(() => new Keyring([{ label: 'a', key }], 'b'), /primary encryption key "b" is not among/);
  });

  it('rejects keys that are not 32 bytes', () => {
    assert.throws(() => new SecretBox(randomBytes(16)), /must be 32 bytes, got 16/);
    assert.throws(() => new SecretBox(key, [randomBytes(31)]), /must be 32 bytes, got 31/);
  });

  it('rejects values that are not sealed, or truncated', () => {
    assert.throws(() => box.open('{"password":"x"}', 'ctx'), /not in a sealed format/);
    assert.throws(() => box.open(`v3:default:AAAA`, 'ctx'), /not in a sealed format/);
    assert.throws(() => box.open(`v2:default:AAAA`, 'ctx'), /truncated/);
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
