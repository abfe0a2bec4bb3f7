// No false alarms: clients that read their bodies, and clients that skip 1 KiB bodies (which fit
// the socket buffers, so the connection is reused or closed normally), settle back to their
// baseline: no leak class, no extra fd.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findLeaks, leakCandidates, settle, takeSnapshot, type Snapshot } from '../src/index.ts';
import { killFixtures, runClient, startBodyServer, startClient, type ClientMode, type Fixture } from './helpers.ts';

const MODES: ClientMode[] = ['fetch', 'undici', 'http'];
const REQUESTS = 200;
const KEEP_ALIVE_MS = 4000;

describe('clients that do not leak', { timeout: 60_000 }, () => {
  let port = 0;
  const runs: Array<{ name: string; client: Fixture; baseline: Snapshot }> = [];

  before(async () => {
    // Idle keep-alive sockets outlive the runs: a server that closed them sooner would leave the
    // http client skipping bodies in CLOSE_WAIT for a moment, right when the first test looks.
    ({ port } = await startBodyServer(KEEP_ALIVE_MS));
    for (const mode of MODES) {
      for (const [name, path, consume] of [[`${mode} reading 256 KiB bodies`, '/big', true], [`${mode} skipping 1 KiB bodies`, '/small', false]] as const) {
        const client = await startClient(mode, `http://127.0.0.1:${port}${path}`, REQUESTS, consume);
        runs.push({ name, client, baseline: takeSnapshot(client.pid) });
      }
    }
    const results = await Promise.all(runs.map((r) => runClient(r.client)));
    for (const r of results) assert.equal(r.ok, REQUESTS);
  });
  after(killFixtures);

  test('right after the requests, none has a socket with unread bytes or in CLOSE_WAIT', () => {
    for (const { name, client, baseline } of runs) {
      const report = leakCandidates(takeSnapshot(client.pid), { peer: port, baseline });
      assert.equal(report.total, 0, `${name}: ${JSON.stringify(report.counts)}`);
    }
  });

  test('after settling, each is back to its baseline fd count with no leak class', async (t) => {
    // http.request holds a socket per unread small response until the server's keep-alive
    // closes it (KEEP_ALIVE_MS): settle polls until then instead of failing at once.
    const results = await Promise.all(
      runs.map(async ({ name, baseline }) => ({ name, result: await settle(baseline, { peer: port, deadlineMs: KEEP_ALIVE_MS + 12_000 }) })),
    );
    for (const { name, result } of results) {
      t.diagnostic(`${name}: settled in ${result.elapsedMs} ms, ${result.samples} samples`);
      assert.equal(result.ok, true, `${name}: ${JSON.stringify(result.report.counts)}, fd growth ${result.fdGrowth}`);
      assert.ok(result.fdGrowth <= 0, `${name}: fd growth ${result.fdGrowth}`);
      assert.equal(result.report.total, 0);
    }
  });

  test('and two samples of each, judged for leaks, find none', async () => {
    const first = runs.map((r) => takeSnapshot(r.client.pid));
    await new Promise((resolve) => setTimeout(resolve, 300));
    runs.forEach((r, i) => {
      const report = findLeaks([first[i]!, takeSnapshot(r.client.pid)]);
      assert.equal(report.ok, true, `${r.name}: ${JSON.stringify(report.groups)}`);
    });
  });
});
