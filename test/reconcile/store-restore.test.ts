// The "done when": a store restored from a backup (RabbitMQ holds a vhost and a user no
// record knows) and a binding user deleted by hand. `warren reconcile` exits 1 naming both;
// `--fix` removes the orphans and brings the user back with its old password (the app connects
// again over AMQP) while another deployment's objects and foreign ones stay; a second run exits 0.
// Reconcile runs beside the running server (SQLite in WAL mode).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  amqpConnect, bindBody, closeAllConnections, enc, expectStatus, instancePath, bindingPath, provisionBody, RabbitAdmin, roundTrip, safeClose, uid,
} from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { backupDir, restoreDir, runReconcile } from './helpers.ts';

describe('warren reconcile after a store restore and a hand-deleted user', () => {
  const rmq = new RabbitAdmin();
  const prefix = `${uid('rcrestore')}-`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-rc-'));
  const dirs: string[] = [dataDir];
  let warren: WarrenProcess | undefined;

  after(async () => {
    await closeAllConnections();
    await warren?.stop({ keepData: true }).catch(() => undefined);
    await rmq.purgePrefix(prefix);
    await rmq.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const start = async () => {
    warren = await startWarrenProcess({ dataDir });
    return new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  };

  it('reports both, repairs both, leaves others alone, and is clean afterwards', async () => {
    const kept = `${prefix}kept`;
    const keptBinding = `${prefix}kept-b`;
    const lost = `${prefix}lost`;
    const lostBinding = `${prefix}lost-b`;

    // Before the backup: one instance with one binding whose credentials an app holds.
    let osb = await start();
    expectStatus(await osb.call('PUT', instancePath(kept), { body: provisionBody() }), 201);
    const bound = await osb.call('PUT', bindingPath(kept, keptBinding), { body: bindBody() });
    expectStatus(bound, 201);
    const creds = bound.body.credentials as { uri: string; username: string };
    await osb.close();
    await warren!.stop({ keepData: true });
    const backup = backupDir(dataDir);
    dirs.push(backup);

    // After the backup: another instance and binding, then the store is restored from the backup.
    osb = await start();
    expectStatus(await osb.call('PUT', instancePath(lost), { body: provisionBody() }), 201);
    const lostBound = await osb.call('PUT', bindingPath(lost, lostBinding), { body: bindBody() });
    expectStatus(lostBound, 201);
    const orphanUser = lostBound.body.credentials.username as string;
    await osb.close();
    await warren!.stop({ keepData: true });
    restoreDir(backup, dataDir);

    // Someone deletes the kept binding's user in the management UI.
    assert.equal((await rmq.call('DELETE', `users/${enc(creds.username)}`)).status, 204);

    // Objects that are not this deployment's: another warren deployment's, a foreign one, and
    // one with the older marker (no deployment id) that no record knows.
    const otherVhost = `${prefix}other-deployment`;
    const otherUser = `${prefix}other-user`;
    const foreignVhost = `${prefix}foreign`;
    const legacyVhost = `${prefix}legacy`;
    assert.equal((await rmq.call('PUT', `vhosts/${enc(otherVhost)}`, { description: `warren service instance ${otherVhost} (deployment someone-else)` })).status, 201);
    assert.equal((await rmq.call('PUT', `users/${enc(otherUser)}`, { password: 'x-other', tags: 'management,warren-deployment:someone-else' })).status, 201);
    assert.equal((await rmq.call('PUT', `vhosts/${enc(foreignVhost)}`, { description: 'made by hand' })).status, 201);
    assert.equal((await rmq.call('PUT', `vhosts/${enc(legacyVhost)}`, { description: `warren service instance ${legacyVhost}` })).status, 201);

    // The server runs on the restored store; reconcile runs beside it.
    osb = await start();
    const env = { WARREN_DATA_DIR: dataDir };
    const first = await runReconcile([], env);
    assert.equal(first.code, 1, `exit status\n${first.stdout}\n${first.stderr}`);
    assert.match(first.stdout, new RegExp(`orphan_vhost +vhost ${lost} `));
    assert.match(first.stdout, new RegExp(`orphan_user +user ${orphanUser} `));
    assert.match(first.stdout, new RegExp(`missing_user +binding ${keptBinding}: user ${creds.username} is missing`));
    for (const name of [otherVhost, otherUser, foreignVhost, legacyVhost]) assert.doesNotMatch(first.stdout, new RegExp(name));

    const json = await runReconcile(['--json'], env);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { drift: boolean; findings: Array<{ kind: string; vhost?: string; username?: string }> };
    assert.equal(report.drift, true);
    assert.deepEqual(report.findings.map((f) => f.kind).sort(), ['missing_user', 'orphan_user', 'orphan_vhost']);

    const fixed = await runReconcile(['--fix'], env);
    assert.equal(fixed.code, 0, `--fix exit status\n${fixed.stdout}\n${fixed.stderr}`);
    assert.match(fixed.stdout, /a scan after the repairs finds no drift/);
    assert.equal(await rmq.vhostExists(lost), false, 'the orphan vhost is deleted');
    assert.equal(await rmq.userExists(orphanUser), false, 'the orphan user is deleted');
    assert.equal(await rmq.userExists(creds.username), true, 'the deleted user is back');
    for (const v of [otherVhost, foreignVhost, legacyVhost]) assert.equal(await rmq.vhostExists(v), true, `${v} is untouched`);
    assert.equal(await rmq.userExists(otherUser), true, 'the other deployment\'s user is untouched');

    // The app's old credentials connect again, and the user has the plan's permissions.
    const live = await amqpConnect(creds.uri);
    await roundTrip(live.conn);
    await safeClose(live);
    // ... and warren still serves the same credentials.
    const again = await osb.call('GET', bindingPath(kept, keptBinding));
    expectStatus(again, 200);
    assert.equal(again.body.credentials.uri, creds.uri);

    const second = await runReconcile([], env);
    assert.equal(second.code, 0, `second run\n${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /no drift/);

    // Unbind and deprovision still work on the repaired objects.
    const q = 'service_id=6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0a01&plan_id=6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b01';
    expectStatus(await osb.call('DELETE', `${bindingPath(kept, keptBinding)}?${q}`), 200);
    expectStatus(await osb.call('DELETE', `${instancePath(kept)}?${q}`), 200);
    await osb.close();
  });
});
