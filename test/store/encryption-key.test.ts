// loadEncryptionKey: configured key, key file generated once (0600, atomic) and reused.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KEY_FILE_NAME, loadEncryptionKey, parseEncryptionKey } from '../../src/store/encryption-key.ts';

describe('loadEncryptionKey', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'warren-key-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  const freshDir = (): string => join(mkdtempSync(join(root, 'd-')), 'data');

  it('generates <dataDir>/encryption.key once, mode 0600 in a 0700 directory, and reuses it', () => {
    const dataDir = freshDir();
    const first = loadEncryptionKey({ dataDir });
    const path = join(dataDir, KEY_FILE_NAME);
    assert.equal(first.source, 'generated');
    assert.equal(first.path, path);
    assert.equal(first.key.length, 32);
    assert.equal(first.looseFilePermissions, false);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(dataDir), [KEY_FILE_NAME], 'no temp files left behind');

    const second = loadEncryptionKey({ dataDir });
    assert.equal(second.source, 'file');
    assert.ok(second.key.equals(first.key));
    assert.equal(second.looseFilePermissions, false);
  });

  it('flags a key file readable by others, but still uses it', () => {
    const dataDir = freshDir();
    const { key } = loadEncryptionKey({ dataDir });
    chmodSync(join(dataDir, KEY_FILE_NAME), 0o644);
    const loaded = loadEncryptionKey({ dataDir });
    assert.equal(loaded.looseFilePermissions, true);
    assert.ok(loaded.key.equals(key));
  });

  it('uses a configured key (hex or base64) and leaves dataDir alone', () => {
    const raw = randomBytes(32);
    const dataDir = freshDir();
    for (const text of [raw.toString('hex'), raw.toString('hex').toUpperCase(), raw.toString('base64'), raw.toString('base64url'), ` ${raw.toString('base64')}\n`]) {
      const loaded = loadEncryptionKey({ key: text, dataDir });
      assert.equal(loaded.source, 'config');
      assert.equal(loaded.path, null);
      assert.ok(loaded.key.equals(raw), text);
    }
    assert.equal(existsSync(dataDir), false);
  });

  it('rejects a configured key of the wrong length with a clear message that does not echo it', () => {
    const cases = [randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(33).toString('base64'), 'not a key!', ''];
    for (const text of cases) {
      assert.throws(() => loadEncryptionKey({ key: text, dataDir: freshDir() }), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /^the encryption key from configuration must be 32 bytes, written as 64 hex digits or 44 base64 characters; got /);
        if (text.length > 0) assert.ok(!err.message.includes(text), err.message);
        return true;
      });
    }
    assert.throws(() => parseEncryptionKey(randomBytes(16).toString('hex'), 'configuration'), /got 32 hex digits, which decode to 16 bytes/);
  });

  it('refuses a malformed key file rather than replacing it', () => {
    const dataDir = freshDir();
    loadEncryptionKey({ dataDir });
    const path = join(dataDir, KEY_FILE_NAME);
    writeFileSync(path, 'garbage\n', { mode: 0o600 });
    assert.throws(() => loadEncryptionKey({ dataDir }), new RegExp(`encryption key from ${path} must be 32 bytes`));
    assert.equal(readFileSync(path, 'utf8'), 'garbage\n');
  });

  it("gives ':memory:' an ephemeral key without touching the file system", () => {
    const a = loadEncryptionKey({ dataDir: ':memory:' });
    assert.equal(a.source, 'ephemeral');
    assert.equal(a.key.length, 32);
    assert.equal(existsSync(':memory:'), false);
  });
});
