// What a bad value in the configuration says: the key, what is wrong, and never a secret.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'warren-config-messages-'));
function rejected(yaml: string, env: Record<string, string> = {}): string {
  const path = join(dir, 'c.yml');
  writeFileSync(path, yaml);
  try {
    loadConfig({ file: path, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('configuration error messages', () => {
  it("reports only the chosen store kind's problem", () => {
    assert.equal(rejected('store: { kind: mysql }\n'), 'invalid configuration:\n- store.kind: must be sqlite or postgres');
    assert.equal(rejected('store: { kind: postgres }\n'), 'invalid configuration:\n- store.url: is required');
    assert.equal(rejected('store: { kind: sqlite, url: x }\n'), 'invalid configuration:\n- store.url: unknown key');
    assert.equal(rejected('store: {}\n'), 'invalid configuration:\n- store.kind: is required');
  });

  it('names the key of an unknown, empty, out-of-range or mistyped value', () => {
    assert.match(rejected('rabbitmq:\n  pool:\n    conections: 3\n'), /^- rabbitmq\.pool\.conections: unknown key \(did you mean connections\?\)$/m);
    assert.match(rejected('lissen: 1\n'), /^- lissen: unknown key \(did you mean listen\?\)$/m);
    assert.match(rejected('rabbitmq: { zzz: 1 }\n'), /^- rabbitmq\.zzz: unknown key$/m);
    assert.match(rejected('auth: { username: "" }\n'), /^- auth\.username: must not be empty$/m);
    assert.match(rejected('operations: { request_budget_ms: 10 }\n'), /^- operations\.request_budget_ms: must be >= 1000$/m);
    assert.match(rejected('log_level: loud\n'), /^- log_level: must be one of fatal, error, warn, info, debug, trace, silent$/m);
    assert.match(rejected('rabbitmq:\n  management_urls: []\n'), /^- rabbitmq\.management_urls: must list at least one$/m);
  });

  it('checks the public management URLs at start, and refuses credentials in them', () => {
    const withAccount = rejected('rabbitmq:\n  management_public_urls: ["https://ops:hunter2@rmq.example.com"]\n');
    assert.equal(withAccount, 'rabbitmq.management_public_urls[0]: must not carry credentials (apps see this URL)');
    assert.match(rejected('rabbitmq:\n  management_public_urls: ["rmq.example.com"]\n'), /^rabbitmq\.management_public_urls\[0\]: not a valid URL/);
    assert.match(rejected('rabbitmq:\n  management_public_urls: ["ftp://rmq.example.com"]\n'), /scheme must be http or https, not ftp/);
  });

  it('says which part of a management URL is badly percent-encoded, without repeating it', () => {
    const msg = rejected('', { WARREN_MANAGEMENT_URLS: 'http://admin:pa%zzss@h:15672' });
    assert.equal(msg, 'rabbitmq.management_urls[0]: the password in the URL is not valid percent-encoding (write % as %25)');
    assert.doesNotMatch(msg, /pa%zzss/);
  });

  it('gives plans without user_tags the configured rabbitmq.user_tags', () => {
    const path = join(dir, 'tags.yml');
    writeFileSync(path, 'rabbitmq:\n  user_tags: [monitoring]\ncatalog:\n  services:\n    - { id: s, name: s, plans: [{ id: p, name: p }, { id: q, name: q, rabbitmq: { user_tags: [] } }] }\n');
    const plans = loadConfig({ file: path, env: {} }).catalog.services[0]!.plans;
    assert.deepEqual(plans.map((p) => p.rabbitmq.user_tags), [['monitoring'], []]);
  });
});
