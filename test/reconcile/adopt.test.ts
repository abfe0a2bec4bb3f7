// Migration from pivotal-cf's multitenant broker: its objects are made here as it makes them (a
// vhost named after the instance id with no description, a user named after the binding id with
// tags policymaker,management and full permissions on that vhost only, no store). After
// `warren reconcile --adopt`, the app's password still works, reconcile --fix applies the plan
// without changing it, and unbind and deprovision from the platform work.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { amqpConnect, bindingPath, closeAllConnections, enc, expectStatus, ids, instancePath, RabbitAdmin, roundTrip, within } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { runReconcile } from './helpers.ts';

describe('adopting the Go broker\'s instances and bindings', () => {
  const rmq = new RabbitAdmin();
  const instanceId = randomUUID();
  const bindingId = randomUUID();
  const otherGoVhost = randomUUID();
  const legacyMgmtUser = `mu-${instanceId}-abc`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-adopt-'));
  let warren: WarrenProcess | undefined;

  after(async () => {
    await closeAllConnections();
    await warren?.stop({ keepData: true }).catch(() => undefined);
    for (const u of [bindingId, legacyMgmtUser]) await rmq.call('DELETE', `users/${enc(u)}`);
    for (const v of [instanceId, otherGoVhost]) await rmq.call('DELETE', `vhosts/${enc(v)}`);
    await rmq.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adopts without changing the password; unbind and deprovision then work', async () => {
    const password = `go-${randomUUID()}`;
    for (const v of [instanceId, otherGoVhost]) assert.equal((await rmq.call('PUT', `vhosts/${enc(v)}`, {})).status, 201);
    assert.equal((await rmq.call('PUT', `users/${enc(bindingId)}`, { password, tags: 'policymaker,management' })).status, 201);
    assert.equal((await rmq.call('PUT', `permissions/${enc(instanceId)}/${enc(bindingId)}`, { configure: '.*', write: '.*', read: '.*' })).status, 201);
    assert.equal((await rmq.call('PUT', `users/${enc(legacyMgmtUser)}`, { password: 'x', tags: 'management' })).status, 201);
    assert.equal((await rmq.call('PUT', `permissions/${enc(instanceId)}/${enc(legacyMgmtUser)}`, { configure: '.*', write: '.*', read: '.*' })).status, 201);
    const uri = `amqp://${enc(bindingId)}:${enc(password)}@127.0.0.1:5672/${enc(instanceId)}`;
    const env = { WARREN_DATA_DIR: dataDir };

    // A dry run lists the GUID-named vhosts it would take (other tests' may be among them) and changes nothing.
    const dry = await runReconcile(['--adopt', '--plan', 'small', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as { dry_run: boolean; adopted: Array<{ instance_id: string; binding_ids: string[] }> };
    assert.equal(planned.dry_run, true);
    assert.deepEqual(planned.adopted.find((a) => a.instance_id === instanceId)?.binding_ids, [bindingId]);
    assert.equal((await rmq.get(`vhosts/${enc(instanceId)}`)).description, '');

    const adopted = await runReconcile(['--adopt', '--plan', 'small', '--instance', instanceId, '--json'], env);
    assert.equal(adopted.code, 0, adopted.stderr);
    const result = JSON.parse(adopted.stdout) as { deployment_id: string; adopted: Array<{ instance_id: string; binding_ids: string[] }>; skipped: Array<{ name: string; reason: string }> };
    assert.deepEqual(result.adopted, [{ instance_id: instanceId, binding_ids: [bindingId] }]);
    assert.ok(result.skipped.some((s) => s.name === `${instanceId}/${legacyMgmtUser}`), 'the legacy management user is named, not adopted');
    assert.equal((await rmq.get(`vhosts/${enc(instanceId)}`)).description, `warren service instance ${instanceId} (deployment ${result.deployment_id})`);
    assert.deepEqual((await rmq.user(bindingId))?.tags, ['policymaker', 'management', `warren-deployment:${result.deployment_id}`]);
    assert.equal((await rmq.get(`vhosts/${enc(otherGoVhost)}`)).description, '', 'a vhost not named is left alone');

    // Adopting again changes nothing.
    const again = await runReconcile(['--adopt', '--plan', 'small', '--instance', instanceId], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /skipped .*: already in the store/);

    // The app's password (never known to warren) still works.
    let live = await amqpConnect(uri);
    await roundTrip(live.conn);
    await live.conn.close();

    // The plan was not applied yet: reconcile says so, --fix applies it and the password stays.
    const drift = await runReconcile(['--json'], env);
    assert.equal(drift.code, 1, drift.stderr);
    const kinds = (JSON.parse(drift.stdout) as { findings: Array<{ kind: string }> }).findings.map((f) => f.kind).sort();
    assert.deepEqual(kinds, ['user_limits', 'vhost_limits'], 'the Go broker\'s tags are the plan\'s; its limits are not');
    const fixed = await runReconcile(['--fix'], env);
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.deepEqual(await rmq.vhostLimits(instanceId), { 'max-connections': 20, 'max-queues': 100 });
    live = await amqpConnect(uri);
    await roundTrip(live.conn);

    // The platform unbinds (the app's connection is closed) and deprovisions through warren.
    warren = await startWarrenProcess({ dataDir });
    const osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
    expectStatus(await osb.call('DELETE', `${bindingPath(instanceId, bindingId)}?${ids()}`), 200);
    assert.equal(await within(live.closed, 3000), true, 'the app\'s connection is closed by unbind');
    assert.equal(await rmq.userExists(bindingId), false);
    expectStatus(await osb.call('DELETE', `${instancePath(instanceId)}?${ids()}`), 200);
    assert.equal(await rmq.vhostExists(instanceId), false);
    await osb.close();
  });
});
