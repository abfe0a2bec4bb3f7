// Run by vitest from ../vitest-hooks.test.ts: the hooks pass tests that give back what they take.
import { closeSync, openSync } from 'node:fs';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { assertNoGrowth, useLeakGuard } from '../../src/index.ts';

useLeakGuard({ beforeEach, afterEach }, { deadlineMs: 1000 });

test('opens a file and closes it', () => {
  const fd = openSync('/dev/null', 'r');
  expect(fd).toBeGreaterThan(2);
  closeSync(fd);
});

test('a workload that gives back its fds does not grow', async () => {
  await assertNoGrowth(() => closeSync(openSync('/dev/null', 'r')), { rounds: 4 });
});
