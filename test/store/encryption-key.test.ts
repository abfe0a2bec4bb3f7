// loadEncryptionKey: configured key, key file generated once (0600, atomic) and reused.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KEY_FILE_NAME, loadEncryptionKey, loadEncryptionKeys, parseEncryptionKey } from '../../src/store/encryption-key.ts';

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

describe('loadEncryptionKeys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const k = () => randomBytes(32);

  it('labels encryption_key "default"; the first listed key is primary unless one is marked', () => {
    const a = k();
    const b = k();
    const d = k();
    const one = loadEncryptionKeys({ key: d.toString('hex'), dataDir: dir });
    assert.deepEqual(one.keys, [{ label: 'default', key: d }]);
    assert.equal(one.primary, 'default');
    const listed = loadEncryptionKeys({ key: d.toString('base64'), keys: [{ label: 'a', key: a.toString('base64') }, { label: 'b', key: b.toString('hex') }], dataDir: dir });
    assert.deepEqual(listed.keys.map((x) => x.label), ['a', 'b', 'default']);
    assert.equal(listed.primary, 'a');
    assert.equal(loadEncryptionKeys({ keys: [{ label: 'a', key: a.toString('hex') }, { label: 'b', key: b.toString('hex'), primary: true }], dataDir: dir }).primary, 'b');
  });

  it('keeps reading the generated key file as "default" once labelled keys are configured, and never generates then', () => {
    const dataDir = join(dir, 'with-file');
    const generated = loadEncryptionKey({ dataDir });
    const next = k();
    const loaded = loadEncryptionKeys({ keys: [{ label: 'next', key: next.toString('hex') }], dataDir });
    assert.deepEqual(loaded.keys, [{ label: 'next', key: next }, { label: 'default', key: generated.key }]);
    const fresh = join(dir, 'no-file');
    assert.deepEqual(loadEncryptionKeys({ keys: [{ label: 'next', key: next.toString('hex') }], dataDir: fresh }).keys.map((x) => x.label), ['next']);
    assert.equal(existsSync(join(fresh, KEY_FILE_NAME)), false);
  });

  it('refuses two primaries and a label used twice, without echoing a key', () => {
    const a = k().toString('hex');
    assert.throws(() => loadEncryptionKeys({ keys: [{ label: 'a', key: a, primary: true }, { label: 'b', key: a, primary: true }], dataDir: dir }), /only one key may be primary/);
    assert.throws(() => loadEncryptionKeys({ key: a, keys: [{ label: 'default', key: k().toString('hex') }], dataDir: dir }), (e: Error) => /"default" is used twice/.test(e.message) && !e.message.includes(a));
  });
});
