// A guard that cannot fail is not a guard: the same soak, with warren's management client
// swapped for one that skips a body (test/soak/leaky-warren.ts), must fail and name the leak
// class and the peer, 127.0.0.1:15672.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTable } from './soak-report.ts';
import { runSoak, type SoakOptions } from './soak.ts';

const LEAKY = 'test/soak/leaky-warren.ts';
const base: Partial<SoakOptions> = {
  concurrency: 32,
  fdLimit: 256,
  retryKnown500: true,
  settleMs: 5_000,
  deadlineMs: 4 * 60_000,
  log: () => undefined,
};

function leakFailures(failures: string[]): string[] {
  return failures.filter((f) => f.startsWith('leak ('));
}

describe('soak with a management client that skips a body', () => {
  test('fails on a steady leak (one unread 287 KiB body every 25 unbinds), naming stuck-rx/close-wait and 127.0.0.1:15672', { timeout: 5 * 60_000 }, async (t) => {
    const result = await runSoak({ ...base, cycles: 1_500, warmupCycles: 200, entry: LEAKY, env: { WARREN_LEAKY_EVERY: '25' } });
    for (const line of formatTable(result).split('\n')) t.diagnostic(line);
    assert.equal(result.ok, false);
    const leaks = leakFailures(result.failures);
    assert.ok(
      leaks.some((f) => /\d+ (stuck-rx|close-wait) sockets? to 127\.0\.0\.1:15672/.test(f)),
      `no leak failure names the class and the peer:\n${result.failures.join('\n')}`,
    );
    assert.ok(result.leakClassesFound.some((c) => c === 'stuck-rx' || c === 'close-wait'), String(result.leakClassesFound));
    const groups = result.leaks.flatMap((v) => v.groups);
    assert.ok(groups.every((g) => g.peer === '127.0.0.1:15672'), JSON.stringify(groups));
    assert.ok(groups.reduce((n, g) => Math.max(n, g.count), 0) >= 50, 'about one leaked socket per 25 unbinds');
    // The fd checks catch a steady leak too.
    assert.ok(result.failures.some((f) => f.startsWith('fd growth +')), result.failures.join('\n'));
    // Nothing else went wrong: the soak failed for the leak alone, and cleaned up after itself.
    assert.equal(result.unexpected.count, 0, result.unexpected.examples.join('\n'));
    assert.deepEqual(result.leftovers, { users: [], vhosts: [] });
    assert.equal(result.amqp.survived, 0);
  });

  test('fails on one single unread body, which no fd count would notice', { timeout: 4 * 60_000 }, async (t) => {
    // The 250th deleteUser (well after warm-up) leaks once; fd growth +1 is within the pool allowance.
    const result = await runSoak({ ...base, cycles: 600, warmupCycles: 100, entry: LEAKY, env: { WARREN_LEAKY_EVERY: '250', WARREN_LEAKY_MAX: '1' } });
    for (const line of formatTable(result).split('\n')) t.diagnostic(line);
    assert.equal(result.ok, false);
    const groups = result.leaks.flatMap((v) => v.groups);
    assert.ok(groups.length > 0, `no leak group:\n${result.failures.join('\n')}`);
    for (const g of groups) {
      assert.ok(g.leakClass === 'stuck-rx' || g.leakClass === 'close-wait', g.text);
      assert.equal(g.peer, '127.0.0.1:15672');
      assert.equal(g.count, 1, g.text);
    }
    assert.ok(leakFailures(result.failures).some((f) => /1 (stuck-rx|close-wait) socket to 127\.0\.0\.1:15672/.test(f)), result.failures.join('\n'));
    assert.ok(!result.failures.some((f) => f.startsWith('fd growth +') || f.startsWith('peak fds')), 'the fd checks alone would have passed');
    assert.equal(result.unexpected.count, 0, result.unexpected.examples.join('\n'));
    assert.deepEqual(result.leftovers, { users: [], vhosts: [] });
  });
});
