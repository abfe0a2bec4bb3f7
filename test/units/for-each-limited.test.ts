// forEachLimited: at most `limit` items in flight; the first failure stops new items, and is
// thrown only once those in flight have settled (nothing keeps running behind the caller).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachLimited } from '../../src/broker/for-each-limited.ts';

it('runs every item with at most `limit` in flight', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    most = Math.max(most, ++inFlight);
    await sleep(5);
    seen.push(n);
    inFlight--;
  });
  assert.equal(most, 3);
  assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6, 7]);
});

it('after a failure takes no new item, and throws once the items in flight are done', async () => {
  const started: number[] = [];
  let settled = 0;
  await assert.rejects(
    forEachLimited([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('item 0 failed');
      await sleep(20);
      settled++;
    }),
    /item 0 failed/,
  );
  assert.ok(started.length <= 3, `started after the failure: ${started.join(',')}`);
  assert.equal(settled, started.length - 1, 'every item in flight settled before the error was thrown');
});
