// For Jest, Vitest, Mocha or any runner with before/after hooks: plain functions without
// parameters (so no runner mistakes them for callback-style hooks) that throw on a leak.
//
//   const guard = createLeakGuard({ peer: 5432 });
//   beforeEach(guard.baseline);  afterEach(guard.check);   // each test
//   beforeAll(guard.baseline);   afterAll(guard.check);    // the whole file
//
// or in one line: useLeakGuard({ beforeEach, afterEach }, { peer: 5432 }).
import { leakGuardSuite, type LeakGuardOptions } from './node-test.ts';
import type { SettleResult } from './settle.ts';

export interface LeakGuard {
  /** Takes the baseline snapshot. */
  baseline(): Promise<void>;
  /** Settles and compares with the baseline; throws a LeakError naming peer, class and counts. */
  check(): Promise<SettleResult>;
}

export function createLeakGuard(options: LeakGuardOptions = {}): LeakGuard {
  const hooks = leakGuardSuite(options);
  return { baseline: hooks.before, check: hooks.after };
}

type Hook = (fn: () => Promise<unknown>, timeout?: number) => unknown;

/** Registers a guard with the runner's hooks: per test (beforeEach/afterEach) or per file (beforeAll/afterAll). */
export function useLeakGuard(
  hooks: { beforeEach: Hook; afterEach: Hook } | { beforeAll: Hook; afterAll: Hook },
  options: LeakGuardOptions = {},
): LeakGuard {
  const guard = createLeakGuard(options);
  // The check may settle for up to deadlineMs (default 5 s, Jest's own default hook timeout).
  const timeout = (options.deadlineMs ?? 5000) + 5000;
  if ('beforeEach' in hooks) {
    hooks.beforeEach(guard.baseline);
    hooks.afterEach(guard.check, timeout);
  } else {
    hooks.beforeAll(guard.baseline);
    hooks.afterAll(guard.check, timeout);
  }
  return guard;
}
