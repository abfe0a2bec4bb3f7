// Protecting the other side: a live warren whose pool allows 3 sockets per management node
// never holds more to RabbitMQ, whatever the code path: provision, bind, unbind of a user with a
// live AMQP connection (and its late straggler look), identical repeats, 404s from RabbitMQ for
// objects deleted behind warren's back, 410s, all from 4 platform callers at once. Watched from
// outside through /proc, as an operator would; at the end nothing to RabbitMQ holds unread bytes,
// sits in CLOSE_WAIT, or keeps growing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { findLeaks, takeSnapshot, type Snapshot } from '../../packages/leakguard/src/index.ts';
import {
  MGMT_URL,
  RabbitAdmin,
  amqpConnect,
  bindBody,
  bindingPath,
  closeAllConnections,
  enc,
  ids,
  instancePath,
  provisionBody,
  uid,
  within,
} from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const POOL = 3;
const CALLERS = 4;
const ROUNDS = 6;
const MGMT_PORT = Number(new URL(MGMT_URL).port || 15672);

describe('sockets to the management node stay within the pool', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-bound-'));
  const admin = new RabbitAdmin();
  let warren: WarrenProcess;
  let osb: OsbClient;

  before(async () => {
    const config = join(dir, 'warren.yml');
    writeFileSync(config, `rabbitmq:\n  pool:\n    connections: ${POOL}\n`);
    warren = await startWarrenProcess({ args: ['--config', config] });
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  });
  after(async () => {
    await closeAllConnections();
    await osb?.close();
    await warren?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const toRabbit = (s: Snapshot) => s.sockets.filter((x) => x.direction === 'out' && x.remotePort === MGMT_PORT && x.state !== 'TIME_WAIT');

  async function lifecycle(tag: string): Promise<void> {
    const id = uid(`bound-${tag}`);
    const [b1, b2] = [uid(`b1-${tag}`), uid(`b2-${tag}`)];
    // A 503 is retried, as a platform does: on a loaded machine a queued management call can run
    // past its attempt deadline. What this test judges is the sockets, not the latency.
    const expect = async (call: () => Promise<{ status: number; text: string }>, status: number, what: string) => {
      let r = await call();
      for (let retry = 0; r.status === 503 && retry < 5; retry++) {
        await sleep(1000);
        r = await call();
      }
      assert.equal(r.status, status, `${what}: ${r.text}`);
      return r;
    };
    await expect(() => osb.call('PUT', instancePath(id), { body: provisionBody() }), 201, 'provision');
    await expect(() => osb.call('PUT', instancePath(id), { body: provisionBody() }), 200, 'identical provision');
    const bound = await expect(() => osb.call('PUT', bindingPath(id, b1), { body: bindBody() }), 201, 'bind');
    const conn = await amqpConnect((bound as unknown as { body: { credentials: { uri: string } } }).body.credentials.uri);
    await expect(() => osb.call('DELETE', `${bindingPath(id, b1)}?${ids()}`), 200, 'unbind with a live connection');
    assert.ok(await within(conn.closed, 5000), 'the AMQP connection survived its unbind');
    const again = await expect(() => osb.call('PUT', bindingPath(id, b2), { body: bindBody() }), 201, 'bind again');
    // The user deleted behind warren's back: unbind meets RabbitMQ's 404.
    const user = (again as unknown as { body: { credentials: { username: string } } }).body.credentials.username;
    await admin.call('DELETE', `/api/users/${enc(user)}`);
    await expect(() => osb.call('DELETE', `${bindingPath(id, b2)}?${ids()}`), 200, 'unbind of a vanished user');
    await expect(() => osb.call('DELETE', `${bindingPath(id, b2)}?${ids()}`), 410, 'unbind twice');
    // The vhost deleted behind warren's back: deprovision meets RabbitMQ's 404.
    await admin.call('DELETE', `/api/vhosts/${enc(id)}`);
    await expect(() => osb.call('DELETE', `${instancePath(id)}?${ids()}`), 200, 'deprovision of a vanished vhost');
    await expect(() => osb.call('DELETE', `${instancePath(id)}?${ids()}`), 410, 'deprovision twice');
  }

  it(`${CALLERS} callers × ${ROUNDS} lifecycles: never more than ${POOL} sockets to RabbitMQ`, async () => {
    let most = 0;
    let looks = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, toRabbit(takeSnapshot(warren.pid)).length);
        looks++;
        await sleep(100);
      }
    })();
    try {
      // On the first failure the other callers stop after their current lifecycle.
      let failed = false;
      const results = await Promise.allSettled(
        Array.from({ length: CALLERS }, async (_, c) => {
          for (let r = 0; r < ROUNDS && !failed; r++) await lifecycle(`${c}-${r}`).catch((err: unknown) => ((failed = true), Promise.reject(err)));
        }),
      );
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
      await sleep(1000); // the unbind's late straggler looks run 500 ms after each answer
    } finally {
      sampling = false;
      await sampler;
    }
    assert.ok(looks > 10, `only ${looks} looks at warren's sockets`);
    assert.ok(most >= 1, 'warren never talked to RabbitMQ?');
    assert.ok(most <= POOL, `warren held ${most} sockets to the management node at once; its pool allows ${POOL}`);

    const samples: Snapshot[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(300);
      samples.push(takeSnapshot(warren.pid));
    }
    const report = findLeaks(samples, { peer: MGMT_PORT });
    assert.equal(report.ok, true, JSON.stringify({ groups: report.groups, growth: report.growth }));
    assert.ok(toRabbit(samples.at(-1)!).length <= POOL);
  });
});
