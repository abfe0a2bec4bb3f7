// Run by vitest from ../vitest-hooks.test.ts: afterEach fails the test that keeps a file open,
// and assertNoGrowth fails the workload that keeps one per round.
import { openSync } from 'node:fs';
import { afterEach, beforeEach, test } from 'vitest';
import { assertNoGrowth, useLeakGuard } from '../../src/index.ts';

const kept: number[] = [];
useLeakGuard({ beforeEach, afterEach }, { deadlineMs: 500 });

test('keeps a file open', () => {
  kept.push(openSync('/dev/null', 'r'));
});

test('keeps files open round after round', async () => {
  await assertNoGrowth(() => {
    for (let i = 0; i < 3; i++) kept.push(openSync('/dev/null', 'r'));
  });
});
