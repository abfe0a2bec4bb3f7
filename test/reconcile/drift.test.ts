// Drift of settings, found by the server's periodic scan: each finding is a log line and a
// warren_drift_objects{kind} sample; with `reconcile.fix` the plan's settings and the stored
// password come back (the app's credentials work again).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startWarren, type RunningWarren } from '../../src/app/start-warren.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, closeAllConnections, enc, expectStatus, instancePath, provisionBody, RabbitAdmin, roundTrip, safeClose,
  STANDARD_PLAN_ID, uid,
} from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

async function metric(url: string, name: string, label: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const m = new RegExp(`^${name}\\{${label}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('the periodic drift scan', () => {
  const rmq = new RabbitAdmin();
  const prefix = `${uid('rcdrift')}-`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-drift-'));
  let running: RunningWarren;
  let osb: OsbClient;
  const { lines, log } = captureLog();

  before(async () => {
    const config = loadConfig({ env: {} });
    running = await startWarren(
      {
        ...config, listen: { host: '127.0.0.1', port: 0 }, data_dir: dataDir, auth: { username: 'u', password: 'p' },
        deployment_id: `${prefix}dep`, reconcile: { interval_s: 3600, fix: true },
      },
      log,
    );
    osb = new OsbClient({ url: running.url, username: 'u', password: 'p' });
  });

  after(async () => {
    await osb?.close();
    await closeAllConnections();
    await running?.close();
    await rmq.purgePrefix(prefix);
    await rmq.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs and counts each drifted setting, and repairs it when fix is on', async () => {
    assert.equal(running.deploymentId, `${prefix}dep`, 'deployment_id from the configuration wins');
    const inst = `${prefix}i`;
    expectStatus(await osb.call('PUT', instancePath(inst), { body: provisionBody(STANDARD_PLAN_ID) }), 201);
    const bound = await osb.call('PUT', bindingPath(inst, `${prefix}b`), { body: bindBody(STANDARD_PLAN_ID) });
    expectStatus(bound, 201);
    const creds = bound.body.credentials as { uri: string; username: string };
    const user = creds.username;
    const userInfo = await rmq.user(user);
    assert.deepEqual(userInfo?.tags, ['management', 'policymaker', `warren-deployment:${prefix}dep`]);
    const vhostInfo = await rmq.get(`vhosts/${enc(inst)}`);
    assert.equal(vhostInfo.description, `warren service instance ${inst} (deployment ${prefix}dep)`);

    // A clean pass first: every kind at 0.
    const clean = await running.driftScan.runOnce();
    assert.deepEqual(clean.findings, []);
    assert.equal(await metric(running.url, 'warren_drift_objects', 'kind="vhost_limits"'), 0);

    // Someone changes things by hand.
    const ops = await rmq.operatorPolicies(inst);
    assert.ok(ops.length > 0, 'the standard plan sets an operator policy');
    assert.equal((await rmq.call('PUT', `vhost-limits/${enc(inst)}/max-connections`, { value: 999 })).status, 204);
    assert.equal((await rmq.call('DELETE', `operator-policies/${enc(inst)}/${enc(ops[0]!.name)}`)).status, 204);
    assert.equal((await rmq.call('PUT', `permissions/${enc(inst)}/${enc(user)}`, { configure: '', write: '', read: '.*' })).status, 204);
    assert.equal((await rmq.call('PUT', `topic-permissions/${enc(inst)}/${enc(user)}`, { exchange: 'amq.topic', write: '^x', read: '^x' })).status, 201);
    assert.equal((await rmq.call('PUT', `user-limits/${enc(user)}/max-channels`, { value: 1 })).status, 204);
    assert.equal((await rmq.call('PUT', `users/${enc(user)}`, { password: 'changed-by-hand', tags: 'management' })).status, 204);
    await amqpRefused(creds.uri);

    const report = await running.driftScan.runOnce();
    const kinds = report.findings.map((f) => f.kind).sort();
    assert.deepEqual(kinds, ['credentials', 'operator_policies', 'permissions', 'topic_permissions', 'user_limits', 'user_tags', 'vhost_limits']);
    assert.deepEqual(report.remaining, [], 'a scan after the repairs is clean');
    for (const kind of kinds) {
      assert.ok(lines.some((l) => l.reconcile === 'drift' && l.kind === kind), `a log line for ${kind}`);
      assert.equal(await metric(running.url, 'warren_drift_objects', `kind="${kind}"`), 1, `warren_drift_objects{kind="${kind}"}`);
    }
    assert.ok(!JSON.stringify(lines).includes('changed-by-hand'), 'no password in the log');

    // Back as the plan says, and the app's credentials work again.
    assert.equal((await rmq.vhostLimits(inst))['max-connections'], 500);
    assert.equal((await rmq.operatorPolicies(inst)).length, ops.length);
    assert.deepEqual(await rmq.userLimits(user), {}, 'the standard plan sets no user limits: the hand-made one is gone');
    assert.equal((await rmq.call('GET', `topic-permissions/${enc(inst)}/${enc(user)}`)).status, 404);
    const perm = await rmq.permissions(inst, user);
    assert.deepEqual([perm.body.configure, perm.body.write, perm.body.read], ['.*', '.*', '.*']);
    const live = await amqpConnect(creds.uri);
    await roundTrip(live.conn);
    await safeClose(live);

    const after2 = await running.driftScan.runOnce();
    assert.deepEqual(after2.findings, []);
    assert.equal(await metric(running.url, 'warren_drift_objects', 'kind="credentials"'), 0);
  });

  it('recreates a vhost deleted by hand, with its plan and its binding users\' permissions', async () => {
    const inst = `${prefix}gone`;
    expectStatus(await osb.call('PUT', instancePath(inst), { body: provisionBody() }), 201);
    const bound = await osb.call('PUT', bindingPath(inst, `${prefix}gone-b`), { body: bindBody() });
    expectStatus(bound, 201);
    const creds = bound.body.credentials as { uri: string };
    assert.equal((await rmq.call('DELETE', `vhosts/${enc(inst)}`)).status, 204);
    await amqpRefused(creds.uri);

    const report = await running.driftScan.runOnce();
    assert.deepEqual(report.findings.map((f) => `${f.kind} ${f.vhost}`), [`missing_vhost ${inst}`]);
    assert.deepEqual(report.remaining, []);
    assert.deepEqual(await rmq.vhostLimits(inst), { 'max-connections': 20, 'max-queues': 100 });
    const live = await amqpConnect(creds.uri);
    await roundTrip(live.conn);
    await safeClose(live);
  });
});
