// For Jest, Vitest, Mocha or any runner with before/after hooks: plain functions without
// parameters (so no runner mistakes them for callback-style hooks) that throw on a leak.
//
//   const guard = createLeakGuard({ peer: 5432 });
//   beforeEach(guard.baseline);  afterEach(guard.check);   // each test
//   beforeAll(guard.baseline);   afterAll(guard.check);    // the whole file
//
// or in one line: useLeakGuard({ beforeEach, afterEach }, { peer: 5432 }).
import { leakGuardSuite } from "./node-test.js";
export function createLeakGuard(options = {}) {
    const hooks = leakGuardSuite(options);
    return { baseline: hooks.before, check: hooks.after };
}
/** Registers a guard with the runner's hooks: per test (beforeEach/afterEach) or per file (beforeAll/afterAll). */
export function useLeakGuard(hooks, options = {}) {
    const guard = createLeakGuard(options);
    // The check may settle for up to deadlineMs (default 5 s, Jest's own default hook timeout).
    const timeout = (options.deadlineMs ?? 5000) + 5000;
    if ('beforeEach' in hooks) {
        hooks.beforeEach(guard.baseline);
        hooks.afterEach(guard.check, timeout);
    }
    else {
        hooks.beforeAll(guard.baseline);
        hooks.afterAll(guard.check, timeout);
    }
    return guard;
}
