import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { publishSecretFile, readIfPresent } from '../../src/store/private-files.ts';

describe('secret files', () => {
  it('publishes a secret 0600 whatever the umask, never replaces one that is there, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-secret-'));
    const path = join(dir, 'secret');
    const umask = process.umask(0);
    try {
      assert.equal(publishSecretFile(path, 'first\n'), true);
    } finally {
      process.umask(umask);
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(publishSecretFile(path, 'second\n'), false, 'a second writer learns it lost');
    assert.equal(readFileSync(path, 'utf8'), 'first\n');
    assert.deepEqual(readdirSync(dir), ['secret']);
  });

  it('reads a file that is there, undefined for one that is not, and throws anything else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-secret-'));
    writeFileSync(join(dir, 'a'), 'x');
    assert.equal(readIfPresent(join(dir, 'a')), 'x');
    assert.equal(readIfPresent(join(dir, 'missing')), undefined);
    assert.throws(() => readIfPresent(dir), { code: 'EISDIR' });
  });
});
