// Test-runner glue: snapshot before, run, settle-and-compare after. Plain async functions, so
// they work as node:test tests and hooks and in any other runner; nothing here imports node:test.
import { assertNoLeaks, type SettleOptions, type SettleResult } from './settle.ts';
import type { PeerFilter } from './peer-filter.ts';
import { takeSnapshot, type Snapshot } from './snapshot.ts';

export interface LeakGuardOptions extends Omit<SettleOptions, 'pid' | 'peer'> {
  /**
   * Process to guard (default: this one). May be a function, asked when the baseline is taken:
   * handy for a child that a hook starts after the options are made.
   */
  pid?: number | 'self' | (() => number);
  /** Only sockets with this port or address:port at either end; a function is asked when comparing. */
  peer?: PeerFilter | (() => PeerFilter);
}

function pidOf(options: LeakGuardOptions): number | 'self' {
  return typeof options.pid === 'function' ? options.pid() : (options.pid ?? 'self');
}

function settleOptions(options: LeakGuardOptions, baseline: Snapshot): SettleOptions {
  const peer = typeof options.peer === 'function' ? options.peer() : options.peer;
  return { ...options, pid: baseline.pid, peer };
}

/**
 * Wraps a test function: takes a baseline snapshot, runs it, then fails (throws a LeakError
 * naming peer, class and counts) if the guarded process has not settled back to the baseline.
 * A test that throws on its own is rethrown untouched.
 */
export function withLeakGuard<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  options: LeakGuardOptions = {},
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const baseline = takeSnapshot(pidOf(options));
    const result = await fn(...args);
    await assertNoLeaks(baseline, settleOptions(options, baseline));
    return result;
  };
}

export interface LeakGuardHooks {
  /** Baseline for the whole block (use with `after`). */
  before(): Promise<void>;
  after(): Promise<SettleResult>;
  /** Baseline per test (use with `afterEach`). */
  beforeEach(): Promise<void>;
  afterEach(): Promise<SettleResult>;
}

/**
 * Hooks for a describe() block: `const g = leakGuardSuite({ peer: 5672 }); before(g.before);
 * after(g.after)` guards the block as a whole; beforeEach/afterEach guard each test.
 * The hooks take no parameters so node:test does not treat them as callback-style.
 */
export function leakGuardSuite(options: LeakGuardOptions = {}): LeakGuardHooks {
  let suiteBaseline: Snapshot | undefined;
  let testBaseline: Snapshot | undefined;
  const compare = async (baseline: Snapshot | undefined, hook: string): Promise<SettleResult> => {
    if (baseline === undefined) throw new Error(`leakGuardSuite: ${hook} ran without its baseline hook`);
    return assertNoLeaks(baseline, settleOptions(options, baseline));
  };
  return {
    before: async () => {
      suiteBaseline = takeSnapshot(pidOf(options));
    },
    after: () => compare(suiteBaseline, 'after'),
    beforeEach: async () => {
      testBaseline = takeSnapshot(pidOf(options));
    },
    afterEach: () => compare(testBaseline, 'afterEach'),
  };
}
