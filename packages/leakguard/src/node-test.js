// Test-runner glue: snapshot before, run, settle-and-compare after. Plain async functions, so
// they work as node:test tests and hooks and in any other runner; nothing here imports node:test.
import { assertNoLeaks } from "./settle.js";
import { takeSnapshot } from "./snapshot.js";
function pidOf(options) {
    return typeof options.pid === 'function' ? options.pid() : (options.pid ?? 'self');
}
function settleOptions(options, baseline) {
    const peer = typeof options.peer === 'function' ? options.peer() : options.peer;
    return { ...options, pid: baseline.pid, peer };
}
/**
 * Wraps a test function: takes a baseline snapshot, runs it, then fails (throws a LeakError
 * naming peer, class and counts) if the guarded process has not settled back to the baseline.
 * A test that throws on its own is rethrown untouched.
 */
export function withLeakGuard(fn, options = {}) {
    return async (...args) => {
        const baseline = takeSnapshot(pidOf(options));
        const result = await fn(...args);
        await assertNoLeaks(baseline, settleOptions(options, baseline));
        return result;
    };
}
/**
 * Hooks for a describe() block: `const g = leakGuardSuite({ peer: 5672 }); before(g.before);
 * after(g.after)` guards the block as a whole; beforeEach/afterEach guard each test.
 * The hooks take no parameters so node:test does not treat them as callback-style.
 */
export function leakGuardSuite(options = {}) {
    let suiteBaseline;
    let testBaseline;
    const compare = async (baseline, hook) => {
        if (baseline === undefined)
            throw new Error(`leakGuardSuite: ${hook} ran without its baseline hook`);
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
