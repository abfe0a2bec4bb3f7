// Mutual TLS (only clients with a certificate the client CA signed get in), a renewed
// certificate picked up without a restart, and failed logins throttled per client address
// without locking out a connection that already authenticated.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { OsbClient } from '../../testkit/osb-client.ts';
import { createTestCa, pem } from '../support/test-ca.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

/** The serial number of the certificate the server presents now. */
function servedSerial(url: string, ca: Buffer, client?: { cert: Buffer; key: Buffer }): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost', ...client }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.once('error', reject);
  });
}

describe('mutual TLS and certificate renewal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-mtls-'));
  const ca = createTestCa(join(dir, 'ca'));
  const strangerCa = createTestCa(join(dir, 'stranger-ca'), 'someone else');
  const first = ca.issue('server-1');
  const second = ca.issue('server-2');
  const client = ca.issue('platform', { kind: 'client' });
  const stranger = strangerCa.issue('stranger', { kind: 'client' });
  const live = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live.key') };
  let warren: WarrenProcess;

  before(async () => {
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    const config = join(dir, 'warren.yml');
    writeFileSync(config, `tls:\n  cert_file: ${live.certFile}\n  key_file: ${live.keyFile}\n  client_ca_file: ${ca.caFile}\n  reload_interval_ms: 200\n`);
    warren = await startWarrenProcess({ args: ['--config', config] });
  });
  after(async () => {
    await warren?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const clientFor = (cert?: { certFile: string; keyFile: string }) =>
    new OsbClient({
      url: warren.url, username: warren.username, password: warren.password,
      tls: { ca: pem(ca.caFile), ...(cert ? { cert: pem(cert.certFile), key: pem(cert.keyFile) } : {}) },
    });

  it('refuses to start with a missing or mismatched certificate, naming the file', async () => {
    await assert.rejects(
      startWarrenProcess({ env: { WARREN_TLS_CERT_FILE: join(dir, 'absent.pem'), WARREN_TLS_KEY_FILE: first.keyFile } }),
      /cannot read the TLS certificate .*absent\.pem: ENOENT/,
    );
    await assert.rejects(
      startWarrenProcess({ env: { WARREN_TLS_CERT_FILE: first.certFile, WARREN_TLS_KEY_FILE: second.keyFile } }),
      /the TLS certificate .*server-1\.pem and key .*server-2\.key cannot be used/,
    );
  });

  it('lets in only clients with a certificate the client CA signed', async () => {
    const good = clientFor(client);
    const none = clientFor();
    const foreign = clientFor(stranger);
    try {
      assert.equal((await good.call('GET', '/v2/catalog')).status, 200);
      await assert.rejects(none.call('GET', '/v2/catalog'), 'no client certificate');
      await assert.rejects(foreign.call('GET', '/v2/catalog'), 'a certificate from another CA');
    } finally {
      await Promise.all([good.close(), none.close(), foreign.close()]);
    }
  });

  it('serves a renewed certificate without a restart', async () => {
    const auth = { cert: pem(client.certFile), key: pem(client.keyFile) };
    const before = await servedSerial(warren.url, pem(ca.caFile), auth);
    // Key first, then the certificate, as a renewal tool might: a moment with a mismatched pair.
    copyFileSync(second.keyFile, live.keyFile);
    await new Promise((r) => setTimeout(r, 400));
    copyFileSync(second.certFile, live.certFile);
    let now = before;
    for (let i = 0; i < 50 && now === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await servedSerial(warren.url, pem(ca.caFile), auth);
    }
    assert.notEqual(now, before, 'the new certificate is served');
    const osb = clientFor(client);
    try {
      assert.equal((await osb.call('GET', '/v2/catalog')).status, 200);
    } finally {
      await osb.close();
    }
    assert.ok(warren.logs.some((l) => l.includes('TLS certificate reloaded')));
    assert.equal(warren.child.exitCode, null, 'same process');
  });
});

describe('failed logins are throttled per client address', () => {
  let warren: WarrenProcess;
  before(async () => {
    warren = await startWarrenProcess();
  });
  after(async () => {
    await warren?.stop();
  });

  it('answers 401 ten times, then 429 with Retry-After, while right credentials from the same address still get in', async () => {
    const platform = new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 1 });
    const attacker = new OsbClient({ url: warren.url, username: warren.username, password: 'guess', connections: 1 });
    const latecomer = new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 1 });
    try {
      assert.equal((await platform.call('GET', '/v2/catalog')).status, 200);
      const statuses: number[] = [];
      let retryAfter: string | undefined;
      for (let i = 0; i < 13; i++) {
        const r = await attacker.call('GET', '/v2/catalog');
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers['retry-after'] as string;
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429, 429]);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter}`);
      assert.equal((await platform.call('GET', '/v2/catalog')).status, 200, 'a successful client is not throttled');
      assert.equal((await latecomer.call('GET', '/v2/catalog')).status, 200, 'nor a new one from the same address');
      assert.equal((await attacker.call('GET', '/v2/catalog')).status, 429, 'wrong credentials still are');
      const metrics = await platform.call('GET', '/metrics');
      assert.match(metrics.text, /warren_osbapi_auth_failures_total\{outcome="rejected"\} 10/);
      assert.match(metrics.text, /warren_osbapi_auth_failures_total\{outcome="throttled"\} 4/);
      await new Promise((r) => setTimeout(r, 300));
      const lines = warren.logs.filter((l) => l.includes('failed login'));
      assert.equal(lines.length, 10, 'one line per refused login until throttled, none while throttled');
      assert.ok(lines.every((l) => !l.includes('guess')), 'the tried password is never logged');
    } finally {
      await Promise.all([platform.close(), attacker.close(), latecomer.close()]);
    }
  });
});
