// assertNoGrowth (a workload repeated until it plateaus) and the Jest/Vitest hooks
// (createLeakGuard, useLeakGuard), called here the way those runners call them.
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { GrowthError, LeakError, assertNoGrowth, createLeakGuard, useLeakGuard } from '../src/index.ts';
import { killFixtures, startBodyServer } from './helpers.ts';

describe('assertNoGrowth', { timeout: 30_000 }, () => {
  let url = '';
  const held: number[] = [];
  const agents: http.Agent[] = [];
  before(async () => {
    const { port } = await startBodyServer(60_000);
    url = `http://127.0.0.1:${port}/small`;
  });
  after(async () => {
    for (const fd of held.splice(0)) closeSync(fd);
    for (const a of agents) a.destroy();
    await killFixtures();
  });
  const get = (agent: http.Agent): Promise<void> =>
    new Promise((resolve, reject) => {
      http.get(url, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });

  test('a file opened per call and kept: GrowthError naming file fds and the per-round counts', async () => {
    const error = await assertNoGrowth(() => {
      for (let i = 0; i < 5; i++) held.push(openSync('/dev/null', 'r'));
    }).catch((e: unknown) => e);
    assert.ok(error instanceof GrowthError, String(error));
    assert.match(error.message, /keeps growing over 6 rounds/);
    assert.match(error.message, /growth: file fds \d+ → \d+ .*; by round: \d+ → \d+ → \d+ → \d+ → \d+ → \d+/);
  });

  test('a new keep-alive agent per round: GrowthError naming the peer', async () => {
    const error = await assertNoGrowth(async () => {
      for (let i = 0; i < 3; i++) {
        const agent = new http.Agent({ keepAlive: true });
        agents.push(agent);
        await get(agent);
      }
    }).catch((e: unknown) => e);
    assert.ok(error instanceof GrowthError, String(error));
    assert.match(error.message, new RegExp(`ESTABLISHED sockets to ${new URL(url).host.replace(/\./g, '\\.')}`));
  });

  test('one keep-alive pool reused every round: it warms up, then holds still', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    agents.push(agent);
    await assertNoGrowth(() => Promise.all(Array.from({ length: 4 }, () => get(agent))), { peer: Number(new URL(url).port) });
  });

  test('files opened and closed within each round: no growth', async () => {
    await assertNoGrowth(() => {
      const fds = Array.from({ length: 20 }, () => openSync('/dev/null', 'r'));
      for (const fd of fds) closeSync(fd);
    });
  });
});

describe('createLeakGuard and useLeakGuard (Jest/Vitest style hooks)', { timeout: 30_000 }, () => {
  test('baseline then check: passes when clean, throws a LeakError naming the growth when not', async () => {
    const guard = createLeakGuard({ deadlineMs: 300 });
    await guard.baseline();
    const fd = openSync('/dev/null', 'r');
    try {
      const error = await guard.check().catch((e: unknown) => e);
      assert.ok(error instanceof LeakError, String(error));
      assert.match(error.message, /fd growth \+1 \(file \+1\) over the baseline, allowed \+0/);
    } finally {
      closeSync(fd);
    }
    await guard.baseline();
    assert.equal((await guard.check()).ok, true);
  });

  test('useLeakGuard registers with beforeEach/afterEach or beforeAll/afterAll, with a hook timeout', async () => {
    const registered: Array<[string, number | undefined]> = [];
    const hook = (name: string) => (fn: () => Promise<unknown>, timeout?: number) => {
      assert.equal(fn.length, 0, 'hooks take no parameters (no done-callback style)');
      registered.push([name, timeout]);
    };
    useLeakGuard({ beforeEach: hook('beforeEach'), afterEach: hook('afterEach') });
    useLeakGuard({ beforeAll: hook('beforeAll'), afterAll: hook('afterAll') }, { deadlineMs: 1000 });
    assert.deepEqual(registered, [
      ['beforeEach', undefined],
      ['afterEach', 10_000],
      ['beforeAll', undefined],
      ['afterAll', 6000],
    ]);
  });
});
