// Keeping the PostgreSQL password out of messages.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passwordOf, redactConnectionString, scrubError } from '../../src/store/postgres-url.ts';

describe('postgres-url', () => {
  it('redacts the password in userinfo and in ?password=', () => {
    assert.equal(redactConnectionString('postgres://u:p%40ss@db:5432/x'), 'postgres://u:***@db:5432/x');
    assert.equal(redactConnectionString('postgres://u@db/x?password=hunter2&sslmode=require'), 'postgres://u@db/x?password=***&sslmode=require');
    assert.equal(redactConnectionString('postgres://u@db/x'), 'postgres://u@db/x');
    assert.equal(redactConnectionString('not a url //u:hunter2@db'), 'not a url //u:***@db');
  });

  it('finds the password as pg would', () => {
    assert.equal(passwordOf('postgres://u:p%40ss@db/x'), 'p@ss');
    assert.equal(passwordOf('postgres://u@db/x?password=hunter2'), 'hunter2');
    assert.equal(passwordOf('postgres://u@db/x'), undefined);
  });

  it('scrubs the password, plain or URL-encoded, and keeps only the message and code', () => {
    const original = Object.assign(new Error('failed for postgres://u:p%40ss@db and p@ss'), { code: '28P01', input: 'postgres://u:p%40ss@db' });
    const safe = scrubError(original, 'p@ss', 'prefix: ');
    assert.equal(safe.message, 'prefix: failed for postgres://u:***@db and ***');
    assert.equal((safe as Error & { code?: string }).code, '28P01');
    assert.equal('input' in safe, false);
    assert.equal(safe.cause, undefined);
  });
});
