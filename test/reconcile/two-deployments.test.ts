// Two warren deployments on one cluster (two platforms sharing a RabbitMQ): B's objects are
// invisible to A's reconcile, even when B has lost its store and they are orphans. B's own
// reconcile (its id given by WARREN_DEPLOYMENT_ID, since its store is new) finds and removes them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bindBody, bindingPath, expectStatus, instancePath, provisionBody, RabbitAdmin, uid } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { runReconcile } from './helpers.ts';

describe('two deployments on one cluster', () => {
  const rmq = new RabbitAdmin();
  const prefix = `${uid('rctwo')}-`;
  const dirs = [mkdtempSync(join(tmpdir(), 'warren-a-')), mkdtempSync(join(tmpdir(), 'warren-b-'))];
  let b: WarrenProcess | undefined;

  after(async () => {
    await b?.stop({ keepData: true }).catch(() => undefined);
    await rmq.purgePrefix(prefix);
    await rmq.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("never touches the other deployment's objects, orphans included", async () => {
    const [dirA, dirB] = dirs as [string, string];
    const idB = `${prefix}b`;
    b = await startWarrenProcess({ dataDir: dirB, env: { WARREN_DEPLOYMENT_ID: idB } });
    const osb = new OsbClient({ url: b.url, username: b.username, password: b.password });
    const inst = `${prefix}i`;
    expectStatus(await osb.call('PUT', instancePath(inst), { body: provisionBody() }), 201);
    const bound = await osb.call('PUT', bindingPath(inst, `${prefix}bb`), { body: bindBody() });
    expectStatus(bound, 201);
    const user = bound.body.credentials.username as string;
    await osb.close();
    await b.stop({ keepData: true });
    b = undefined;
    // B loses its store: its vhost and user are now orphans, of B. B starts again on an empty
    // store, with its deployment id from the configuration.
    rmSync(dirB, { recursive: true, force: true });
    b = await startWarrenProcess({ dataDir: dirB, env: { WARREN_DEPLOYMENT_ID: idB } });
    // A is a deployment of its own (its store made by its first start).
    const a0 = await startWarrenProcess({ dataDir: dirA });
    await a0.stop({ keepData: true });

    const a = await runReconcile(['--fix', '--json'], { WARREN_DATA_DIR: dirA });
    assert.equal(a.code, 0, a.stdout + a.stderr);
    const reportA = JSON.parse(a.stdout) as { deployment_id: string; findings: unknown[] };
    assert.notEqual(reportA.deployment_id, idB);
    assert.deepEqual(reportA.findings, []);
    assert.equal(await rmq.vhostExists(inst), true, "A leaves B's vhost alone");
    assert.equal(await rmq.userExists(user), true, "A leaves B's user alone");

    const bScan = await runReconcile(['--json'], { WARREN_DATA_DIR: dirB, WARREN_DEPLOYMENT_ID: idB });
    assert.equal(bScan.code, 1, bScan.stdout + bScan.stderr);
    const kinds = (JSON.parse(bScan.stdout) as { findings: Array<{ kind: string; vhost?: string; username?: string }> }).findings.map((f) => `${f.kind} ${f.vhost ?? f.username}`).sort();
    assert.deepEqual(kinds, [`orphan_user ${user}`, `orphan_vhost ${inst}`]);
    const bFix = await runReconcile(['--fix'], { WARREN_DATA_DIR: dirB, WARREN_DEPLOYMENT_ID: idB });
    assert.equal(bFix.code, 0, bFix.stdout + bFix.stderr);
    assert.equal(await rmq.vhostExists(inst), false);
    assert.equal(await rmq.userExists(user), false);
  });
});
