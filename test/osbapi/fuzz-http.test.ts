// The same properties over real HTTP on loopback (fewer cases: sockets cost more than inject):
// repeated headers on the wire, bodies past the 1 MiB limit, and the connection still usable
// (or closed by the server) after every answer. FUZZ_HTTP_RUNS sets the cases per route.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { answerProblem, buildFuzzTarget, requestArb, ROUTES, type FuzzRequest, type FuzzTarget } from './fuzz-support.ts';

const RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 150);

/** undici takes headers as a flat [name, value, ...] list: a repeated header goes on the wire twice. */
function flatHeaders(h: FuzzRequest['headers']): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(h)) for (const one of Array.isArray(v) ? v : [v]) out.push(k, one);
  return out;
}

describe('fuzzed OSBAPI requests (HTTP)', () => {
  let t: FuzzTarget;
  let base: string;
  const agent = new Agent({ connections: 4, keepAliveTimeout: 2000 });
  before(async () => {
    t = await buildFuzzTarget();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.name}: ${RUNS} cases`, async () => {
      // One case in twenty carries a body over the 1 MiB limit.
      const arb = fc.tuple(requestArb(route, t), fc.nat(19)).map(([req, n]) => (n === 0 && route.method !== 'GET' ? { ...req, payload: `{"pad":"${'p'.repeat(1_100_000)}"}` } : req));
      await t.ensureSeed();
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          const before = await t.snapshot();
          const writesBefore = t.writes.length;
          const res = await request(base + req.url, {
            method: req.method, headers: flatHeaders(req.headers), dispatcher: agent,
            ...(req.payload !== undefined ? { body: req.payload } : {}),
          });
          const text = await res.body.text();
          const problem = answerProblem({ status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text });
          assert.equal(problem, undefined, problem);
          if (res.statusCode >= 400) {
            assert.deepEqual(t.writes.slice(writesBefore), [], `a ${res.statusCode} wrote to RabbitMQ`);
            assert.equal(await t.snapshot(), before, `a ${res.statusCode} changed the store`);
          }
          if ((req.payload?.length ?? 0) > 1024 * 1024) assert.equal(res.statusCode === 413 || res.statusCode === 401 || res.statusCode === 412 || res.statusCode === 400 || res.statusCode === 404, true, `oversized body answered ${res.statusCode}`);
        }),
        { numRuns: RUNS },
      );
    });
  }
});
