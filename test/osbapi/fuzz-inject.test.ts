// Property-based fuzzing of every OSBAPI route, in process (Fastify inject) for speed, against
// the real broker, a real SQLite store and the real RabbitMQ. Invariants: never a 5xx, always
// JSON in the OSBAPI error shape, and a rejected request (4xx) makes no write to RabbitMQ and
// leaves the store as it was. FUZZ_RUNS sets the cases per route (default 1,500).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { answerProblem, buildFuzzTarget, requestArb, ROUTES, type FuzzTarget } from './fuzz-support.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

describe('fuzzed OSBAPI requests (inject)', () => {
  let t: FuzzTarget;
  const statuses = new Map<string, Map<number, number>>();
  before(async () => {
    t = await buildFuzzTarget();
  });
  after(async () => {
    await t.close();
    for (const [route, counts] of statuses) process.stdout.write(`# ${route}: ${[...counts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}\n`);
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.name}: ${RUNS} cases`, async () => {
      const counts = new Map<number, number>();
      statuses.set(route.name, counts);
      await t.ensureSeed();
      await fc.assert(
        fc.asyncProperty(requestArb(route, t), async (req) => {
          const before = await t.snapshot();
          const writesBefore = t.writes.length;
          const res = await t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
          counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
          const problem = answerProblem({ status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text: res.body });
          assert.equal(problem, undefined, problem);
          if (res.statusCode >= 400) {
            assert.deepEqual(t.writes.slice(writesBefore), [], `a ${res.statusCode} wrote to RabbitMQ`);
            assert.equal(await t.snapshot(), before, `a ${res.statusCode} changed the store`);
          }
        }),
        { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
      );
      assert.ok([...counts.keys()].some((s) => s >= 400), 'some requests were rejected');
    });
  }
});
