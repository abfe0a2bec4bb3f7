// Orphan mitigation and restarts: platforms DELETE what they are unsure of, warren restarts
// under them, RabbitMQ changes behind its back. Every delete must be idempotent, nothing may be
// left half-made, and the encrypted store must carry instances and credentials over a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import {
  amqpConnect, amqpRefused, bindBody, bindingPath, closeAllConnections, enc, expectError, expectStatus, ids, instancePath,
  provisionBody, RabbitAdmin, roundTrip, safeClose, SMALL_PLAN_ID, STANDARD_PLAN_ID, startEnv, uid, within, type Env,
} from './helpers.ts';

/** SIGTERM, then wait at most limitMs for the exit (SIGKILL after that, code null): keeps the suite bounded. */
async function stopTimed(w: WarrenProcess, limitMs = 6000): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const child = w.child;
  if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
  const code = await new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => {
      child.kill('SIGKILL');
    }, limitMs);
    child.once('exit', (c) => {
      clearTimeout(kill);
      resolve(c);
    });
    child.kill('SIGTERM');
  });
  return { code, ms: Date.now() - t0 };
}

describe('restart on the same data directory', () => {
  const rmq = new RabbitAdmin();
  const prefix = `${uid('orph')}-`;
  const made: Restartable[] = [];

  /** One warren on its own data directory, stopped and started again by a test. */
  class Restartable {
    readonly dataDir = mkdtempSync(join(tmpdir(), 'warren-orphan-'));
    warren: WarrenProcess | undefined;
    osb: OsbClient | undefined;
    readonly instances: string[] = [];

    constructor() {
      made.push(this);
    }

    async start(): Promise<OsbClient> {
      this.warren = await startWarrenProcess({ dataDir: this.dataDir });
      this.osb = new OsbClient({ url: this.warren.url, username: this.warren.username, password: this.warren.password });
      return this.osb;
    }

    /** Stops warren while the client still holds its (idle, keep-alive) connections, as a platform does. */
    async stop(): Promise<{ code: number | null; ms: number }> {
      const r = await stopTimed(this.warren!);
      this.warren = undefined;
      await this.osb?.close();
      this.osb = undefined;
      return r;
    }

    async dispose(): Promise<void> {
      if (this.osb && this.warren) {
        for (const inst of this.instances) await this.osb.call('DELETE', `${instancePath(inst)}?${ids()}`).catch(() => undefined);
      }
      await this.osb?.close();
      if (this.warren) await stopTimed(this.warren);
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /**
   * What the restart tests start from: an instance with a binding and an app connected with its
   * credentials, then warren stopped by SIGTERM (the app stays connected).
   */
  async function boundThenStopped(tag: string) {
    const w = new Restartable();
    const inst = `${prefix}${tag}`;
    const bid = `${inst}-b`;
    w.instances.push(inst);
    const osb = await w.start();
    expectStatus(await osb.call('PUT', instancePath(inst), { body: provisionBody() }), 201, 'provision');
    const b = await osb.call('PUT', bindingPath(inst, bid), { body: bindBody() });
    expectStatus(b, 201, 'bind');
    const creds: Record<string, any> = b.body.credentials;
    const live = await amqpConnect(creds.uri);
    await roundTrip(live.conn);
    const stopped = await w.stop();
    return { w, inst, bid, creds, live, stopped };
  }

  after(async () => {
    await closeAllConnections();
    for (const w of made) await w.dispose();
    await rmq.purgePrefix(prefix);
    await rmq.close();
  });

  it('provision, bind, connect; SIGTERM stops warren with exit code 0 within a few seconds', async () => {
    const { live, stopped } = await boundThenStopped('sigterm');
    assert.equal(stopped.code, 0, 'exit code after SIGTERM');
    assert.ok(stopped.ms < 5000, `stopping took ${stopped.ms} ms`);
    // Warren is not in the data path: the app's connection does not notice.
    assert.equal(live.isClosed(), false);
    await roundTrip(live.conn);
  });

  it('the store keeps credentials encrypted: no file of the data directory holds the password', async () => {
    const { w, creds } = await boundThenStopped('encrypted');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(w.dataDir);
    assert.ok(files.length > 0);
    for (const f of files) {
      const bytes = readFileSync(f);
      assert.ok(!bytes.includes(Buffer.from(creds.password)), `${f} holds the binding password in clear`);
      assert.ok(!bytes.includes(Buffer.from(creds.uri)), `${f} holds the URI in clear`);
    }
  });

  it('after a restart: the instance and binding are there, a repeat bind returns the SAME credentials', async () => {
    const { w, inst, bid, creds, live } = await boundThenStopped('kept');
    const osb = await w.start();
    const gi = await osb.call('GET', instancePath(inst));
    expectStatus(gi, 200, 'GET instance after restart');
    assert.equal(gi.body.plan_id, SMALL_PLAN_ID);
    const gb = await osb.call('GET', bindingPath(inst, bid));
    expectStatus(gb, 200, 'GET binding after restart');
    assert.deepEqual(gb.body.credentials, creds);
    const again = await osb.call('PUT', bindingPath(inst, bid), { body: bindBody() });
    expectStatus(again, 200, 'repeat bind after restart');
    assert.deepEqual(again.body.credentials, creds);
    expectStatus(await osb.call('PUT', instancePath(inst), { body: provisionBody() }), 200, 'repeat provision after restart');
    // The password did not change: the old connection lives, a new one logs in.
    assert.equal(live.isClosed(), false);
    const fresh = await amqpConnect(creds.uri);
    await roundTrip(fresh.conn);
    await safeClose(fresh);
  });

  it('after a restart: unbind still closes the app\'s connection, deprovision removes everything', async () => {
    const { w, inst, bid, creds, live } = await boundThenStopped('unbound');
    const osb = await w.start();
    expectStatus(await osb.call('DELETE', `${bindingPath(inst, bid)}?${ids()}`), 200, 'unbind');
    assert.ok(await within(live.closed, 2000), 'connection closed after unbind');
    assert.equal(await rmq.userExists(creds.username), false);
    expectStatus(await osb.call('DELETE', `${instancePath(inst)}?${ids()}`), 200, 'deprovision');
    assert.equal(await rmq.vhostExists(inst), false);
    const lo = await osb.call('GET', `${instancePath(inst)}/last_operation`);
    expectStatus(lo, 200, 'last_operation');
    assert.equal(lo.body.state, 'succeeded');
  });

  it('SIGTERM while requests are in flight: they are answered, exit code 0, and the store matches RabbitMQ after restart', async () => {
    const w = new Restartable();
    const id = `${prefix}drain`;
    w.instances.push(id);
    const first = await w.start();
    expectStatus(await first.call('PUT', instancePath(id), { body: provisionBody(STANDARD_PLAN_ID) }), 201, 'provision');
    const bids = Array.from({ length: 10 }, (_, i) => `${id}-b${i}`);
    const pending = bids.map((b) => first.call('PUT', bindingPath(id, b), { body: bindBody(STANDARD_PLAN_ID) }).catch((err: Error) => err));
    await new Promise((res) => setTimeout(res, 3));
    const stopping = stopTimed(w.warren!);
    const answers = await Promise.all(pending);
    const { code, ms } = await stopping;
    await first.close();
    w.osb = undefined;
    w.warren = undefined;
    for (const a of answers) {
      // Accepted requests are answered in full; others may be refused or see 503 while closing.
      if (a instanceof Error) continue;
      assert.ok(a.status === 201 || a.status === 503, `in-flight bind: ${a.status} ${a.text}`);
    }
    const osb = await w.start();
    for (const [i, b] of bids.entries()) {
      const a = answers[i]!;
      const users = await rmq.usersStartingWith(`${b}-`);
      const g = await osb.call('GET', bindingPath(id, b));
      if (!(a instanceof Error) && a.status === 201) {
        expectStatus(g, 200, `binding ${b} answered 201 before the stop`);
        assert.deepEqual(g.body.credentials, a.body.credentials);
        assert.deepEqual(users, [a.body.credentials.username]);
      } else {
        // Never answered: the platform's orphan mitigation is a DELETE, which must leave no user behind.
        assert.ok(g.status === 200 || g.status === 404, `${b}: ${g.status} ${g.text}`);
        const d = await osb.call('DELETE', `${bindingPath(id, b)}?${ids(STANDARD_PLAN_ID)}`);
        assert.ok(d.status === 200 || d.status === 410, `orphan unbind ${b}: ${d.status} ${d.text}`);
        assert.deepEqual(await rmq.usersStartingWith(`${b}-`), [], `${b}: a user survived the orphan unbind`);
      }
    }
    expectStatus(await osb.call('DELETE', `${instancePath(id)}?${ids(STANDARD_PLAN_ID)}`), 200, 'deprovision');
    assert.deepEqual(await rmq.usersStartingWith(`${id}-`), []);
    // A platform's client keeps its connections alive: a request answered during the drain must not
    // hold the stop hostage, and the exit code must still be 0.
    assert.equal(code, 0, `exit code after SIGTERM with requests in flight (${ms} ms; null = still running after 6 s, killed)`);
    assert.ok(ms < 5000, `stopping took ${ms} ms`);
  });
});

describe('orphan mitigation: deletes are idempotent and clean up', () => {
  let env: Env;

  before(async () => {
    env = await startEnv('orph2');
  });
  after(async () => {
    await env.cleanup();
  });

  it('DELETE of a never-created instance or binding: 410 {}', async () => {
    const inst = env.id('never');
    const d = await env.osb.call('DELETE', `${instancePath(inst)}?${ids()}`);
    expectStatus(d, 410, 'deprovision of a never-created instance');
    assert.deepEqual(d.body, {});
    const u = await env.osb.call('DELETE', `${bindingPath(inst, env.id('nb'))}?${ids()}`);
    expectStatus(u, 410, 'unbind in a never-created instance');
    assert.deepEqual(u.body, {});
    const real = env.id('real');
    expectStatus(await env.osb.call('PUT', instancePath(real), { body: provisionBody() }), 201, 'provision');
    const u2 = await env.osb.call('DELETE', `${bindingPath(real, env.id('nb'))}?${ids()}`);
    expectStatus(u2, 410, 'unbind of a never-created binding');
    assert.deepEqual(u2.body, {});
    assert.ok(await env.rmq.vhostExists(real), 'the instance is untouched');
  });

  it('a bind that fails in RabbitMQ (vhost deleted behind warren\'s back) leaves no user; DELETE after it is safe', async () => {
    const inst = env.id('lost');
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: provisionBody() }), 201, 'provision');
    assert.equal((await env.rmq.call('DELETE', `vhosts/${enc(inst)}`)).status, 204);
    const bid = env.id('lostb');
    const b = await env.osb.call('PUT', bindingPath(inst, bid), { body: bindBody() });
    assert.ok(b.status >= 400, `bind into a vanished vhost: ${b.status} ${b.text}`);
    expectError(b, b.status, undefined, 'failed bind');
    assert.deepEqual(await env.rmq.usersStartingWith(`${bid}-`), [], 'the failed bind left a user behind');
    // The platform's orphan mitigation: unbind, then deprovision. Both must succeed or be 410.
    const u = await env.osb.call('DELETE', `${bindingPath(inst, bid)}?${ids()}`);
    assert.ok(u.status === 200 || u.status === 410, `unbind after a failed bind: ${u.status} ${u.text}`);
    assert.deepEqual(u.body, {});
    const d = await env.osb.call('DELETE', `${instancePath(inst)}?${ids()}`);
    expectStatus(d, 200, 'deprovision of an instance whose vhost vanished');
    expectError(await env.osb.call('GET', instancePath(inst)), 404, undefined, 'GET afterwards');
  });

  it('a vhost of the same name that warren did not create is never adopted or deleted', async () => {
    const inst = env.id('foreign');
    const created = await env.rmq.call('PUT', `vhosts/${enc(inst)}`, { description: 'someone else\'s' });
    assert.equal(created.status, 201, created.text);
    const r = await env.osb.call('PUT', instancePath(inst), { body: provisionBody() });
    assert.ok(r.status >= 400 && r.status < 500, `provision onto a foreign vhost: ${r.status} ${r.text}`);
    expectError(r, r.status, undefined, 'provision onto a foreign vhost');
    expectError(await env.osb.call('GET', instancePath(inst)), 404, undefined, 'GET afterwards');
    const d = await env.osb.call('DELETE', `${instancePath(inst)}?${ids()}`);
    expectStatus(d, 410, 'DELETE (orphan mitigation) of the refused instance');
    const v = await env.rmq.call('GET', `vhosts/${enc(inst)}`);
    assert.equal(v.status, 200, 'the foreign vhost is still there');
    assert.equal(v.body.description, 'someone else\'s');
    assert.deepEqual(await env.rmq.vhostLimits(inst), {}, 'no limits were put on the foreign vhost');
    await env.rmq.call('DELETE', `vhosts/${enc(inst)}`);
  });

  it('deprovision of an instance whose binding user was deleted behind warren\'s back: 200, no leftovers', async () => {
    const inst = env.id('gone');
    expectStatus(await env.osb.call('PUT', instancePath(inst), { body: provisionBody() }), 201, 'provision');
    const b = await env.osb.call('PUT', bindingPath(inst, env.id('goneb')), { body: bindBody() });
    expectStatus(b, 201, 'bind');
    assert.equal((await env.rmq.call('DELETE', `users/${enc(b.body.credentials.username)}`)).status, 204);
    const u = await env.osb.call('DELETE', `${bindingPath(inst, env.id('goneb'))}?${ids()}`);
    expectStatus(u, 200, 'unbind of a binding whose user vanished');
    expectStatus(await env.osb.call('DELETE', `${instancePath(inst)}?${ids()}`), 200, 'deprovision');
    assert.equal(await env.rmq.vhostExists(inst), false);
    await amqpRefused(b.body.credentials.uri);
  });
});
