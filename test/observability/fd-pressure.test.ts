// /ready degrades on fd pressure from any kind of fd, not only sockets to RabbitMQ: here the
// accepted sockets of a misbehaving platform client grow steadily toward warren's fd limit.
// /metrics shows the same as sockets per peer and state (all peers) and fds by kind.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';

const FD_LIMIT = 600;

function openIdleSocket(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

describe('fd pressure on /ready and /metrics', { timeout: 60_000 }, () => {
  let warren: WarrenProcess;
  let osb: OsbClient;
  const hogs: Socket[] = [];

  before(async () => {
    warren = await startWarrenProcess({ fdLimit: FD_LIMIT });
    osb = new OsbClient({ url: warren.url, username: warren.username, password: warren.password });
  });
  after(async () => {
    for (const s of hogs) s.destroy();
    await osb.close();
    await warren.stop();
  });

  it('names a steadily growing fd kind and peer, is unready while it grows, ready once it drains', async () => {
    const port = Number(new URL(warren.url).port);
    // Unauthenticated endpoints name peers without their address: warren's own listener by its port.
    const listening = `listener:${port}`;
    const first = await osb.call('GET', '/ready', { auth: null, version: null });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.checks.fd_growth.ok, true);
    assert.match(first.body.checks.file_descriptors.detail, /^\d+ of 600 open \(\d+ %\): socket \d+, .*file \d+/);

    // 20 idle connections a second until /ready says unready, for 12 s at most (240 sockets, far
    // below 80 % of the limit); /ready looked at once a second (it keeps a look every 2 s at
    // most, and judges growth from three looks, so a busy machine can take past 7 s).
    let unready: { status: number; body: any; text: string } | undefined;
    const started = Date.now();
    while (!unready && Date.now() - started < 12_000) {
      for (let i = 0; i < 20; i++) {
        const s = await openIdleSocket(port);
        if (s) hogs.push(s);
      }
      const r = await osb.call('GET', '/ready', { auth: null, version: null });
      if (r.status === 503) unready ??= r;
      await sleep(1000 - ((Date.now() - started) % 1000));
    }
    assert.ok(unready, `never unready while ${hogs.length} sockets were opened`);
    assert.equal(unready.body.checks.fd_growth.ok, false, unready.text);
    assert.equal(unready.body.checks.file_descriptors.ok, true, 'far from the 80 % mark: only growth tells');
    const detail = unready.body.checks.fd_growth.detail as string;
    assert.match(detail, /growth: socket fds \d+ → \d+ over [\d.]+ s \(\+\d+(\.\d)?\/s\), soft limit in \d+ s at this rate/);
    assert.match(detail, new RegExp(`growth: ESTABLISHED sockets accepted on ${listening}`));
    assert.doesNotMatch(unready.text, /127\.0\.0\.1/, 'no address on /ready');

    const m = await osb.call('GET', '/metrics', { auth: null, version: null });
    assert.ok(m.text.includes(`warren_sockets{peer="${listening}",direction="in",state="ESTABLISHED"}`), 'accepted sockets by peer and state');
    assert.ok(m.text.includes(`warren_sockets{peer="${listening}",direction="listen",state="LISTEN"} 1`), 'the listener');
    assert.ok(/warren_sockets\{peer="rabbitmq:0",direction="out",state="ESTABLISHED"\} [1-9]/.test(m.text), 'sockets to RabbitMQ');
    assert.doesNotMatch(m.text, /warren_sockets\{peer="[^"]*127\.0\.0\.1/, 'no address in /metrics');
    assert.ok(/warren_open_fds\{kind="socket"\} [1-9]\d+/.test(m.text), 'socket fds');
    assert.ok(/warren_open_fds\{kind="file"\} [1-9]/.test(m.text), 'file fds');

    for (const s of hogs.splice(0)) s.destroy();
    let ready: { status: number; text: string } | undefined;
    for (let i = 0; i < 10 && ready?.status !== 200; i++) {
      await sleep(1000);
      ready = await osb.call('GET', '/ready', { auth: null, version: null });
    }
    assert.equal(ready?.status, 200, `still unready after the sockets closed: ${ready?.text}`);
  });
});
