// Without a restart: the broker password, the RabbitMQ administrator account and the encryption
// keys replaced by a configuration reload (SIGHUP, or the file changing), and `warren rotate-keys`
// re-encrypting every stored credential beside the running server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RabbitAdmin, bindBody, provisionBody, uid } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const MGMT = (process.env.RABBITMQ_MGMT_URL ?? 'http://127.0.0.1:15672').replace(/\/+$/, '');
const key = () => randomBytes(32).toString('base64');

describe('configuration reload and key rotation while serving', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-reload-'));
  const configFile = join(dir, 'warren.yml');
  const dataDir = join(dir, 'data');
  const rmq = new RabbitAdmin();
  const admins = [uid('adm1'), uid('adm2')].map((name) => ({ name, password: randomBytes(12).toString('hex') }));
  const passwords = [randomBytes(12).toString('hex'), randomBytes(12).toString('hex')];
  const k1 = { label: 'k1', key: key() };
  const k2 = { label: 'k2', key: key() };
  const instances: string[] = [];
  let warren: WarrenProcess;

  const writeConfig = (password: string, admin: { name: string; password: string }, keys: Array<{ label: string; key: string; primary?: boolean }>) =>
    writeFileSync(configFile, JSON.stringify({
      auth: { username: 'platform', password },
      data_dir: dataDir,
      encryption_keys: keys,
      rabbitmq: { management_urls: [MGMT], administrator: { username: admin.name, password: admin.password } },
    }));
  const client = (password: string) => new OsbClient({ url: warren.url, username: 'platform', password });
  const reloads = () => warren.logs.filter((l) => l.includes('"configuration reloaded"'));
  async function waitForReloads(n: number): Promise<string> {
    for (let i = 0; i < 100 && reloads().length < n; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(reloads().length >= n, `expected ${n} reloads:\n${warren.logs.slice(-5).join('\n')}`);
    return reloads()[n - 1]!;
  }
  const rawCredentials = (bindingId: string): string => {
    const db = new Database(join(dataDir, 'warren.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT credentials FROM warren_bindings WHERE id = ?').get(bindingId) as { credentials: string }).credentials;
    } finally {
      db.close();
    }
  };

  before(async () => {
    for (const a of admins) {
      const r = await rmq.call('PUT', `users/${a.name}`, { password: a.password, tags: 'administrator' });
      assert.ok(r.status === 201 || r.status === 204, r.text);
    }
    writeConfig(passwords[0]!, admins[0]!, [k1]);
    // The file decides: no WARREN_USERNAME / WARREN_PASSWORD from the harness.
    warren = await startWarrenProcess({ args: ['--config', configFile], dataDir, env: { WARREN_USERNAME: '', WARREN_PASSWORD: '' } });
  });

  after(async () => {
    const osb = client(passwords[1]!);
    const ids = `service_id=${provisionBody().service_id}&plan_id=${provisionBody().plan_id}`;
    for (const id of instances) {
      await osb.call('DELETE', `/v2/service_instances/${id}/service_bindings/${id}-b?${ids}`).catch(() => undefined);
      await osb.call('DELETE', `/v2/service_instances/${id}?${ids}`).catch(() => undefined);
    }
    await osb.close();
    await warren?.stop();
    for (const a of admins) await rmq.call('DELETE', `users/${a.name}`);
    for (const id of instances) await rmq.call('DELETE', `vhosts/${id}`);
    await rmq.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('swaps the broker password, the admin account and the keys on SIGHUP; rotate-keys re-encrypts beside the server', async () => {
    const first = uid('rl');
    instances.push(first);
    const old = client(passwords[0]!);
    const p1 = await old.call('PUT', `/v2/service_instances/${first}`, { body: provisionBody() });
    assert.equal(p1.status, 201, `${p1.text}\n${warren.logs.filter((l) => l.includes('"level":50')).join('\n')}`);
    const bound = await old.call('PUT', `/v2/service_instances/${first}/service_bindings/${first}-b`, { body: bindBody() });
    assert.equal(bound.status, 201, bound.text);
    assert.match(rawCredentials(`${first}-b`), /^v2:k1:/);

    writeConfig(passwords[1]!, admins[1]!, [{ ...k2, primary: true }, k1]);
    process.kill(warren.pid, 'SIGHUP');
    const line = await waitForReloads(1);
    for (const what of ['auth', 'rabbitmq.administrator', 'encryption keys']) assert.ok(line.includes(what), line);
    assert.ok(!line.includes(passwords[1]!) && !line.includes(k2.key) && !line.includes(admins[1]!.password), 'no secret in the reload line');

    const now = client(passwords[1]!);
    try {
      assert.equal((await old.call('GET', '/v2/catalog')).status, 401, 'the old broker password is refused');
      assert.equal((await now.call('GET', '/v2/catalog')).status, 200);
      // The first admin is gone from RabbitMQ: only the reloaded account can provision.
      assert.equal((await rmq.call('DELETE', `users/${admins[0]!.name}`)).status, 204);
      const second = uid('rl');
      instances.push(second);
      const p = await now.call('PUT', `/v2/service_instances/${second}`, { body: provisionBody() });
      assert.equal(p.status, 201, p.text);
      const b2 = await now.call('PUT', `/v2/service_instances/${second}/service_bindings/${second}-b`, { body: bindBody() });
      assert.equal(b2.status, 201, b2.text);
      assert.match(rawCredentials(`${second}-b`), /^v2:k2:/, 'new writes use the new primary');

      const rotation = await run(process.execPath, ['--import', 'tsx', 'src/cli/warren.ts', 'rotate-keys', '--config', configFile, '--batch-size', '1'], { cwd: ROOT, timeout: 30_000 });
      assert.match(rotation.stdout, /done: 1 re-encrypted, 0 changed meanwhile by the server \(already current\), 0 unreadable/);
      assert.match(rawCredentials(`${first}-b`), /^v2:k2:/);
      const again = await now.call('GET', `/v2/service_instances/${first}/service_bindings/${first}-b`);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.credentials.password, bound.body.credentials.password, 'the server reads what rotate-keys re-sealed');

      // k1 retired by editing the file alone (no signal): the server reads everything with k2.
      writeConfig(passwords[1]!, admins[1]!, [k2]);
      const byFile = await waitForReloads(2);
      assert.match(byFile, /configuration file changed/);
      for (const id of [first, second]) {
        assert.equal((await now.call('GET', `/v2/service_instances/${id}/service_bindings/${id}-b`)).status, 200);
      }
      assert.equal(warren.child.exitCode, null, 'never restarted');
    } finally {
      await Promise.all([old.close(), now.close()]);
    }
  });
});
