// A configuration reload: what it applies at once and what it says needs a restart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { LiveSettings } from '../../src/app/live-settings.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { WarrenConfig } from '../../src/config/config-types.ts';

const keysOf = (label: string, key: Buffer) => ({ keys: [{ label, key }], primary: label, generated: null, looseFiles: [] });
const config = (env: Record<string, string>) => loadConfig({ env: { WARREN_PASSWORD: 'p1', WARREN_DATA_DIR: ':memory:', ...env } }) as WarrenConfig;

describe('LiveSettings', () => {
  it('swaps accounts and keys, and names other changes as needing a restart', () => {
    const k1 = randomBytes(32);
    const live = new LiveSettings(config({}), keysOf('k1', k1));
    const before = { auth: live.brokerAuth, admin: live.admin };
    assert.deepEqual(live.apply(config({}), keysOf('k1', k1)), { applied: [], needsRestart: [] });
    assert.equal(live.brokerAuth, before.auth, 'unchanged accounts keep their identity (cached auth stays valid)');

    const next = config({ WARREN_PASSWORD: 'p2', WARREN_MANAGEMENT_URLS: 'http://admin2:s3cret@127.0.0.1:15672', WARREN_LISTEN: '127.0.0.1:9999' });
    const out = live.apply(next, keysOf('k2', randomBytes(32)));
    assert.deepEqual(out.applied, ['auth', 'rabbitmq.administrator', 'encryption keys']);
    assert.deepEqual(out.needsRestart, ['listen']);
    assert.equal(live.brokerAuth.password, 'p2');
    assert.deepEqual(live.admin, { username: 'admin2', password: 's3cret' });
    assert.equal(live.keyring.primaryLabel, 'k2');
  });

  it('changes nothing when the new keys are unusable', () => {
    const live = new LiveSettings(config({}), keysOf('k1', randomBytes(32)));
    assert.throws(() => live.apply(config({ WARREN_PASSWORD: 'p2' }), keysOf('bad label', randomBytes(32))), /label/);
    assert.equal(live.brokerAuth.password, 'p1');
    assert.equal(live.keyring.primaryLabel, 'k1');
  });
});
