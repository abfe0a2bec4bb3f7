// Running out of file descriptors: warren under a soft and hard limit of 96 fds (lowered with
// prlimit once it listens, as an operator could; starting under 96 can meet EMFILE while modules
// load) has its fds exhausted by idle
// client sockets. It must keep running, report itself not ready, answer 503 where a RabbitMQ
// call cannot get a socket, log it, and recover once the fds are free again.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { takeSnapshot } from '../../packages/leakguard/src/index.ts';
import { DEFAULT_SERVICE_ID, OsbClient, STANDARD_PLAN_ID } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const FD_LIMIT = 96;
const suffix = Math.random().toString(36).slice(2, 8);

/** warren's JSON log lines (pino: level 50 is error, 40 warn, 30 info). */
function logEntries(w: WarrenProcess): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  for (const line of w.logs) {
    try {
      out.push(JSON.parse(line));
    } catch {
      // not JSON: not one of warren's log lines
    }
  }
  return out;
}

/** What a platform reads in a 503 whose RabbitMQ call could not get a socket (src/broker/rabbit-failure.ts). */
const OUT_OF_FDS_ANSWER = /: the broker is out of file descriptors; try again shortly$/;

function openIdleSocket(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

describe('file descriptor exhaustion', () => {
  let warren: WarrenProcess;
  const clients: OsbClient[] = [];
  const hogs: Socket[] = [];
  const instanceIds = Array.from({ length: 12 }, (_, i) => `emfile-${suffix}-${i}`);

  before(async () => {
    warren = await startWarrenProcess({ fdLimitAfterStart: FD_LIMIT, env: { WARREN_LOG_LEVEL: 'info' } });
    // Readiness reads the limit afresh: it reports the lowered one within its 1 s cache.
    const probe = new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 1 });
    const seen = Date.now() + 5000;
    let detail = '';
    while (!detail.includes(` of ${FD_LIMIT} open`) && Date.now() < seen) {
      detail = String((await probe.call('GET', '/ready')).body?.checks?.file_descriptors?.detail);
      await new Promise((r) => setTimeout(r, 200));
    }
    await probe.close();
    assert.match(detail, new RegExp(` of ${FD_LIMIT} open`), 'readiness reports the lowered fd limit');
    // Twelve platform connections opened while fds are plentiful; each keeps one keep-alive socket.
    // Twelve provisions at once need more management sockets than the pool keeps idle.
    for (let i = 0; i < instanceIds.length; i++) {
      const c = new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 1 });
      assert.equal((await c.call('GET', '/v2/catalog')).status, 200);
      clients.push(c);
    }
  });

  after(async () => {
    for (const s of hogs) s.destroy();
    for (const [i, id] of instanceIds.entries()) {
      await clients[i]?.call('DELETE', `/v2/service_instances/${id}?service_id=${DEFAULT_SERVICE_ID}&plan_id=${STANDARD_PLAN_ID}`).catch(() => undefined);
    }
    for (const c of clients) await c.close();
    await warren?.stop();
  });

  it('runs under the low limit', () => {
    const snap = takeSnapshot(warren.pid);
    assert.equal(snap.limits?.soft, FD_LIMIT);
  });

  it('answers 503, stays up and recovers', async () => {
    // Fill warren's fd table with idle connections until accepts start failing.
    for (let i = 0; i < FD_LIMIT + 20; i++) {
      const s = await openIdleSocket(Number(new URL(warren.url).port));
      if (s) {
        s.on('error', () => undefined);
        hogs.push(s);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    const during = takeSnapshot(warren.pid);
    assert.ok(during.fds!.total >= FD_LIMIT - 2, `warren's fds should be exhausted, has ${during.fds!.total} of ${FD_LIMIT}`);

    // Readiness samples fds at most once a second.
    const red = Date.now() + 3000;
    let ready = await clients[0]!.call('GET', '/ready');
    while (ready.status !== 503 && Date.now() < red) {
      await new Promise((r) => setTimeout(r, 250));
      ready = await clients[0]!.call('GET', '/ready');
    }
    assert.equal(ready.status, 503, `${ready.text} fds=${during.fds!.total}`);
    assert.equal(ready.body.checks.file_descriptors.ok, false);
    assert.match(ready.body.checks.file_descriptors.detail, new RegExp(`^\\d+ of ${FD_LIMIT} open \\((8\\d|9\\d|1\\d\\d) %\\)`), ready.text);

    // Provisions in parallel need more management sockets than the pool has idle: those get 503.
    const answers = await Promise.all(
      instanceIds.map((id, i) =>
        clients[i]!.call('PUT', `/v2/service_instances/${id}`, {
          body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID, organization_guid: 'o', space_guid: 's' },
        }),
      ),
    );
    for (const a of answers) assert.ok([201, 503].includes(a.status), `unexpected ${a.status}: ${a.text}`);
    const unavailable = answers.filter((a) => a.status === 503);
    assert.ok(unavailable.length > 0, `some provisions should hit EMFILE: ${answers.map((a) => a.status).join(',')}`);
    // Each 503 says the broker itself is out of fds (not that RabbitMQ is unreachable or slow).
    for (const a of unavailable) {
      assert.equal(a.body.error, 'ServiceUnavailable', a.text);
      assert.match(a.body.description, OUT_OF_FDS_ANSWER, a.text);
    }
    assert.equal(warren.child.exitCode, null, 'warren is still running');

    // Free the fds: warren recovers without a restart.
    for (const s of hogs.splice(0)) s.destroy();
    const deadline = Date.now() + 10_000;
    let readyAgain = await clients[0]!.call('GET', '/ready');
    while (readyAgain.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      readyAgain = await clients[0]!.call('GET', '/ready');
    }
    assert.equal(readyAgain.status, 200, readyAgain.text);
    assert.equal(readyAgain.body.checks.file_descriptors.ok, true, readyAgain.text);
    for (const [i, id] of instanceIds.entries()) {
      const again = await clients[i]!.call('PUT', `/v2/service_instances/${id}`, {
        body: { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID, organization_guid: 'o', space_guid: 's' },
      });
      assert.ok([200, 201].includes(again.status), `after recovery: ${again.status} ${again.text}`);
    }
    // The operator's view: each 503 in the log with the answer it gave and the errno behind it
    // (not just any line that mentions EMFILE, as RabbitMQ client retries do), and the readiness
    // check going red, then green again, without a restart.
    const logs = logEntries(warren);
    const served503 = logs.filter((l) => l.msg === 'answered with a server error' && l.status === 503 && l.operation === 'provision');
    for (const a of unavailable) {
      assert.ok(
        served503.some((l) => l.cause === a.body.description && /last: EMFILE on /.test(String(l.err))),
        `no log line for the answer "${a.body.description}" naming EMFILE:\n${served503.map((l) => JSON.stringify(l)).join('\n')}`,
      );
    }
    const failing = logs.findIndex((l) => l.msg === 'readiness check failing' && l.check === 'file_descriptors');
    const passing = logs.findIndex((l) => l.msg === 'readiness check passing again' && l.check === 'file_descriptors');
    assert.ok(failing >= 0, 'the failing file_descriptors check is logged');
    assert.ok(passing > failing, 'its recovery is logged after it');
    assert.equal(warren.child.exitCode, null, 'warren never restarted');
  });
});
