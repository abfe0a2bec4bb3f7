import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveBrokerPassword } from '../../src/config/broker-password.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'warren-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('serves a default catalog against a local RabbitMQ with no file at all', () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(c.rabbitmq.management_urls, ['http://127.0.0.1:15672']);
    assert.deepEqual(c.rabbitmq.administrator, { username: 'guest', password: 'guest' });
    assert.deepEqual(c.rabbitmq.hosts, ['127.0.0.1']);
    assert.equal(c.store.kind, 'sqlite');
    assert.ok(c.catalog.services[0]!.plans.length >= 2);
    assert.equal(c.auth.username, 'warren');
    assert.equal(c.auth.password, undefined, 'no password is invented by the loader');
  });

  it('lets WARREN_* variables override the essentials, taking the admin account from the URL userinfo', () => {
    const c = loadConfig({
      env: {
        WARREN_LISTEN: '127.0.0.1:9090',
        WARREN_USERNAME: 'cf',
        WARREN_PASSWORD: 's3cret',
        WARREN_MANAGEMENT_URLS: 'http://adm%40in:p%3Ass@10.0.0.1:15672/, http://10.0.0.2:15672',
        WARREN_DATA_DIR: '/var/lib/warren',
      },
    });
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(c.auth, { username: 'cf', password: 's3cret' });
    assert.deepEqual(c.rabbitmq.management_urls, ['http://10.0.0.1:15672', 'http://10.0.0.2:15672']);
    assert.deepEqual(c.rabbitmq.administrator, { username: 'adm@in', password: 'p:ss' });
    assert.deepEqual(c.rabbitmq.hosts, ['10.0.0.1', '10.0.0.2']);
    assert.equal(c.data_dir, '/var/lib/warren');
  });

  it('keeps the configured administrator when WARREN_MANAGEMENT_URLS carries no credentials', () => {
    const c = loadConfig({
      env: { WARREN_MANAGEMENT_URLS: 'http://rmq-2.internal:15672' },
      file: file('admin.yml', 'rabbitmq:\n  management_urls: [http://rmq-1.internal:15672]\n  administrator: { username: warren-admin, password: s3cret }\n'),
    });
    assert.deepEqual(c.rabbitmq.management_urls, ['http://rmq-2.internal:15672']);
    assert.deepEqual(c.rabbitmq.administrator, { username: 'warren-admin', password: 's3cret' });
  });

  it('takes deployment_id from the file or WARREN_DEPLOYMENT_ID, and rejects ids that cannot go into a tag', () => {
    assert.equal(loadConfig({ env: {} }).deployment_id, undefined, 'default: the store generates one');
    assert.equal(loadConfig({ env: {}, file: file('dep.yml', 'deployment_id: platform-a\n') }).deployment_id, 'platform-a');
    assert.equal(loadConfig({ env: { WARREN_DEPLOYMENT_ID: 'platform-b' }, file: file('dep2.yml', 'deployment_id: platform-a\n') }).deployment_id, 'platform-b');
    assert.match(configError(() => loadConfig({ env: { WARREN_DEPLOYMENT_ID: 'a,b' } })), /deployment_id/);
    assert.match(configError(() => loadConfig({ env: {}, file: file('dep3.yml', 'deployment_id: "x (y)"\n') })), /deployment_id/);
  });

  it('refuses an empty file when reloading (a file caught mid-write), and reads it as all defaults at start', () => {
    const empty = file('empty.yml', '\n');
    assert.match(configError(() => loadConfig({ env: {}, file: empty, refuseEmptyFile: true })), /configuration file .*empty\.yml is empty/);
    assert.equal(loadConfig({ env: {}, file: empty }).auth.username, loadConfig({ env: {} }).auth.username);
  });

  it('has reconcile and listener defaults, and checks them', () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.reconcile, { interval_s: 300, fix: false });
    assert.deepEqual(c.listener, { headers_timeout_ms: 10_000, request_timeout_ms: 30_000, idle_timeout_ms: 60_000, max_header_bytes: 16_384, max_connections: 1024 });
    assert.match(configError(() => loadConfig({ env: {}, file: file('l.yml', 'listener: { max_connections: 0 }\n') })), /listener\.max_connections/);
    assert.match(configError(() => loadConfig({ env: {}, file: file('r.yml', 'reconcile: { fix: maybe }\n') })), /reconcile\.fix/);
  });

  it('names the bad key: unknown keys, wrong types, bad enums', () => {
    const msg = configError(() =>
      loadConfig({ env: {}, file: file('typo.yml', 'rabbitmq:\n  management_urls: [http://a:b@h:15672]\n  pool: { conections: 4 }\nlog_level: loud\n') }),
    );
    assert.match(msg, /rabbitmq\.pool\.conections: unknown key/);
    assert.match(msg, /log_level: must be one of/);
  });

  it('rejects duplicate plan ids, naming where', () => {
    const yaml = `catalog:
  services:
    - id: s1
      name: svc
      plans:
        - { id: p1, name: a }
        - { id: p1, name: b }
`;
    assert.match(configError(() => loadConfig({ env: {}, file: file('dup.yml', yaml) })), /catalog\.services\[0\]\.plans\[1\]\.id: "p1" is used twice/);
  });

  it('never repeats a password from a bad management URL', () => {
    const msg = configError(() => loadConfig({ env: { WARREN_MANAGEMENT_URLS: 'ftp://admin:hunter2@h:15672' } }));
    assert.match(msg, /scheme must be http or https/);
    assert.doesNotMatch(msg, /hunter2/);
    const msg2 = configError(() => loadConfig({ env: { WARREN_LISTEN: 'nonsense' } }));
    assert.match(msg2, /listen: "nonsense" is not host:port/);
  });

  it('reports a missing file and invalid YAML clearly', () => {
    assert.match(configError(() => loadConfig({ env: {}, file: join(dir, 'absent.yml') })), /cannot read configuration file .*ENOENT/);
    assert.match(configError(() => loadConfig({ env: {}, file: file('bad.yml', 'a: [1, 2\n') })), /not valid YAML/);
  });

  it('loads the documented example configuration', () => {
    const c = loadConfig({ env: {}, file: new URL('../../config/warren.example.yml', import.meta.url).pathname });
    assert.equal(c.rabbitmq.administrator.username, 'warren-admin');
    assert.deepEqual(c.rabbitmq.management_urls, ['http://127.0.0.1:15672']);
    const standard = c.catalog.services[0]!.plans[1]!;
    assert.equal(standard.rabbitmq.operator_policies[0]!.name, 'warren-queue-cap');
    assert.deepEqual(standard.rabbitmq.user_tags, ['management', 'policymaker']);
  });

  it('generates a broker password once, mode 0600, and reuses it', () => {
    const dataDir = join(dir, 'data');
    const first = resolveBrokerPassword(undefined, dataDir);
    assert.ok(first.file);
    assert.ok(first.password.length >= 24);
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.equal(resolveBrokerPassword(undefined, dataDir).password, first.password);
    assert.equal(readFileSync(first.file, 'utf8').trim(), first.password);
    assert.deepEqual(resolveBrokerPassword('given', dataDir), { password: 'given' });
  });

  it('refuses an empty broker password file instead of accepting an empty password', () => {
    const dataDir = join(dir, 'empty-pw');
    resolveBrokerPassword(undefined, dataDir);
    writeFileSync(join(dataDir, 'broker-password'), '  \n');
    assert.match(configError(() => resolveBrokerPassword(undefined, dataDir)), /broker-password is empty/);
  });

  it('reads tls and labelled keys from the environment, and checks the key labels', () => {
    const c = loadConfig({ env: {
      WARREN_TLS_CERT_FILE: '/etc/warren/tls.crt', WARREN_TLS_KEY_FILE: '/etc/warren/tls.key', WARREN_TLS_CLIENT_CA_FILE: '/etc/warren/ca.crt',
      WARREN_ENCRYPTION_KEYS: 'new=AAAA,old=BBBB',
    } });
    assert.deepEqual(c.tls, { cert_file: '/etc/warren/tls.crt', key_file: '/etc/warren/tls.key', client_ca_file: '/etc/warren/ca.crt', reload_interval_ms: 10000 });
    assert.deepEqual(c.encryption_keys, [{ label: 'new', key: 'AAAA', primary: true }, { label: 'old', key: 'BBBB' }]);
    assert.deepEqual(c.auth_throttle, { max_failures: 10, window_seconds: 60 });
    assert.match(configError(() => loadConfig({ env: { WARREN_TLS_KEY_FILE: '/k' } })), /tls\.cert_file: is required/);
    const bad = configError(() => loadConfig({ env: { WARREN_ENCRYPTION_KEYS: 'no-label-secretvalue' } }));
    assert.match(bad, /WARREN_ENCRYPTION_KEYS entry #1 must be label=key/);
    assert.ok(!bad.includes('secretvalue'));
    assert.match(configError(() => loadConfig({ env: { WARREN_ENCRYPTION_KEY: 'x', WARREN_ENCRYPTION_KEYS: 'default=y' } })), /"default" is used twice/);
    assert.match(configError(() => loadConfig({ file: file('labels.yml', 'encryption_keys: [{label: "a b", key: x}]') })), /encryption_keys\[0\]\.label/);
  });
});
