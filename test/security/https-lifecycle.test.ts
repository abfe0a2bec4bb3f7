// Over HTTPS, verified against a CA made by the test: a whole lifecycle at trace level leaves no
// secret in the log; plain HTTP on the TLS port is refused; a failed login is logged without the
// tried password and counted; the data dir holds nothing group- or world-readable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { RabbitAdmin, amqpConnect, bindBody, closeAllConnections, provisionBody, roundTrip, uid } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { createTestCa, pem } from '../support/test-ca.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const MGMT = (process.env.RABBITMQ_MGMT_URL ?? 'http://127.0.0.1:15672').replace(/\/+$/, '');

/** Every variant a secret could be logged in. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
}

describe('warren over HTTPS at trace level', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-https-'));
  const ca = createTestCa(join(dir, 'ca'));
  const server = ca.issue('warren-server');
  const rmq = new RabbitAdmin();
  const adminUser = uid('admin');
  const adminPass = randomBytes(18).toString('base64url');
  const encryptionKey = randomBytes(32);
  let warren: WarrenProcess;
  let osb: OsbClient;

  before(async () => {
    // An administrator of the test's own, so its password is a secret no other log line could hold.
    const put = await rmq.call('PUT', `users/${adminUser}`, { password: adminPass, tags: 'administrator' });
    assert.ok(put.status === 201 || put.status === 204, put.text);
    warren = await startWarrenProcess({
      dataDir: join(dir, 'data'),
      env: {
        WARREN_LOG_LEVEL: 'trace',
        WARREN_TLS_CERT_FILE: server.certFile,
        WARREN_TLS_KEY_FILE: server.keyFile,
        WARREN_ENCRYPTION_KEY: encryptionKey.toString('base64'),
        WARREN_MANAGEMENT_URLS: MGMT.replace('://', `://${adminUser}:${encodeURIComponent(adminPass)}@`),
      },
    });
    assert.match(warren.url, /^https:\/\//);
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password, tls: { ca: pem(ca.caFile) } });
  });

  after(async () => {
    await closeAllConnections();
    await osb?.close();
    await warren?.stop();
    await rmq.call('DELETE', `users/${adminUser}`);
    await rmq.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a whole lifecycle with a certificate verified against the CA, and logs no secret', async () => {
    const instance = uid('https');
    const binding = `${instance}-b`;
    const ids = `service_id=${provisionBody().service_id}&plan_id=${provisionBody().plan_id}`;
    assert.equal((await osb.call('GET', '/v2/catalog')).status, 200);
    const p = await osb.call('PUT', `/v2/service_instances/${instance}`, { body: provisionBody() });
    assert.equal(p.status, 201, p.text);
    const b = await osb.call('PUT', `/v2/service_instances/${instance}/service_bindings/${binding}`, { body: bindBody() });
    assert.equal(b.status, 201, b.text);
    const creds = b.body.credentials;
    const live = await amqpConnect(creds.uri);
    await roundTrip(live.conn);
    assert.equal((await osb.call('GET', `/v2/service_instances/${instance}/service_bindings/${binding}`)).body.credentials.password, creds.password);
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const bad = await osb.call('GET', '/v2/catalog', { auth: 'Basic ' + Buffer.from(`intruder:${wrong}`).toString('base64') });
    assert.equal(bad.status, 401);
    assert.equal((await osb.call('DELETE', `/v2/service_instances/${instance}/service_bindings/${binding}?${ids}`)).status, 200);
    await live.closed;
    assert.equal((await osb.call('DELETE', `/v2/service_instances/${instance}?${ids}`)).status, 200);
    assert.equal((await osb.call('GET', '/ready')).status, 200);
    const metrics = await osb.call('GET', '/metrics');

    await waitFor(() => warren.logs.some((l) => l.includes('failed login')));
    const failed = warren.logs.filter((l) => l.includes('failed login'));
    assert.equal(failed.length, 1, 'the failed login is logged once');
    assert.match(failed[0]!, /"username":"intruder"/);
    assert.match(metrics.text, /warren_osbapi_auth_failures_total\{outcome="rejected"\} 1/);

    const secrets = new Map<string, string>([
      ['broker password', warren.password],
      ['admin password', adminPass],
      ['binding password', creds.password],
      ['binding uri', creds.uri],
      ['binding http_api_uri', creds.http_api_uri],
      ['tried password', wrong],
      ['encryption key (base64)', encryptionKey.toString('base64')],
      ['encryption key (hex)', encryptionKey.toString('hex')],
      ['broker basic header', Buffer.from(`${warren.username}:${warren.password}`).toString('base64')],
      ['admin basic header', Buffer.from(`${adminUser}:${adminPass}`).toString('base64')],
    ]);
    const log = warren.logs.join('\n');
    assert.ok(warren.logs.length > 20, `trace level logs plenty (${warren.logs.length} lines)`);
    assert.ok(log.includes(binding), 'the log does describe the lifecycle');
    for (const [name, secret] of secrets) {
      for (const form of forms(secret)) assert.ok(!log.includes(form), `${name} found in the log`);
      for (const text of [metrics.text]) assert.ok(!text.includes(secret), `${name} found in /metrics`);
    }
  });

  it('refuses plain HTTP on the TLS port, and a client that does not trust the CA', async () => {
    const plain = warren.url.replace('https://', 'http://');
    await assert.rejects(request(`${plain}/health`, { headersTimeout: 3000, bodyTimeout: 3000 }).then((r) => r.body.text()));
    await assert.rejects(request(`${warren.url}/health`).then((r) => r.body.text()), /self[- ]signed|unable to verify|certificate/i);
  });

  it('keeps the data directory 0700 with every file in it 0600', () => {
    const st = statSync(warren.dataDir);
    assert.equal(st.mode & 0o777, 0o700, `data dir mode ${(st.mode & 0o777).toString(8)}`);
    const files = readdirSync(warren.dataDir);
    assert.ok(files.includes('warren.db') && files.includes('warren.db-wal'), files.join(', '));
    for (const f of files) {
      const mode = statSync(join(warren.dataDir, f)).mode & 0o777;
      assert.equal(mode & 0o077, 0, `${f} is ${mode.toString(8)}`);
    }
  });
});

describe('a provision RabbitMQ refuses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-refused-'));
  const rmq = new RabbitAdmin();
  const adminUser = uid('admin');
  const adminPass = randomBytes(18).toString('base64url');
  const service = { id: 'wt-refused-service', plan: 'wt-refused-plan' };
  let warren: WarrenProcess;

  before(async () => {
    const put = await rmq.call('PUT', `users/${adminUser}`, { password: adminPass, tags: 'administrator' });
    assert.ok(put.status === 201 || put.status === 204, put.text);
    const config = join(dir, 'warren.yml');
    // JSON is YAML. A policy RabbitMQ rejects ("bogus is not a valid ha-mode value").
    writeFileSync(config, JSON.stringify({
      rabbitmq: { management_urls: [MGMT.replace('://', `://${adminUser}:${encodeURIComponent(adminPass)}@`)] },
      catalog: { services: [{ id: service.id, name: 'refused', plans: [{ id: service.plan, name: 'bad-policy', rabbitmq: {
        policies: [{ name: 'bad', pattern: '.*', definition: { 'ha-mode': 'bogus' } }],
      } }] }] },
    }));
    warren = await startWarrenProcess({ args: ['--config', config] });
  });
  after(async () => {
    await warren?.stop();
    await rmq.call('DELETE', `users/${adminUser}`);
    await rmq.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers what failed, without the node address, the admin user or RabbitMQ reason text, which go to the log', async () => {
    const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
    const id = uid('refused');
    try {
      const p = await osb.call('PUT', `/v2/service_instances/${id}`, {
        body: { service_id: service.id, plan_id: service.plan, organization_guid: 'o', space_guid: 's' },
      });
      assert.equal(p.status, 502, p.text);
      assert.equal(p.body.error, 'UpstreamFailure');
      assert.match(p.body.description, /^provisioning failed: RabbitMQ answered 400 \(bad_request\) to PUT on policies/);
      const mgmt = new URL(MGMT);
      for (const internal of [mgmt.host, mgmt.hostname, `:${mgmt.port}`, adminUser, 'bogus', 'ha-mode', 'Validation']) {
        assert.ok(!p.text.includes(internal), `"${internal}" in the error body: ${p.text}`);
      }
      await waitFor(() => warren.logs.some((l) => l.includes('bogus') && l.includes(mgmt.host)));
      assert.ok(warren.logs.some((l) => l.includes('bogus') && l.includes(mgmt.host)), 'the operator reads the full reason and node in the log');
      assert.equal(await rmq.vhostExists(id), false, 'the half-made vhost was rolled back');
    } finally {
      await osb.close();
      await rmq.call('DELETE', `vhosts/${id}`);
    }
  });
});
