// Bind/unbind load against one instance, and its median: shared by the cluster tests.
import type { OsbClient } from '../../testkit/osb-client.ts';
import { DEFAULT_SERVICE_ID, SMALL_PLAN_ID } from '../../testkit/osb-client.ts';

export interface LoadResult {
  /** "bind 409 ..." for every answer that was not 201/200. */
  failures: string[];
  maxMs: number;
  latencies: number[];
}

/**
 * `cycles` bind+unbind pairs on `instance`, `concurrency` at a time. `started(n)` resolves
 * once n cycles have finished, so a test can break something while the load runs.
 */
export function nodeLoad(osb: OsbClient, instance: string, tag: string, o: { cycles: number; concurrency: number }) {
  const failures: string[] = [];
  const latencies: number[] = [];
  let finished = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let next = 0;
  const q = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`;
  const timed = async (what: string, expect: number[], p: Promise<{ status: number; text: string }>): Promise<boolean> => {
    const t0 = Date.now();
    const r = await p;
    latencies.push(Date.now() - t0);
    if (expect.includes(r.status)) return true;
    failures.push(`${what} ${r.status} ${r.text.slice(0, 300)}`);
    return false;
  };
  const worker = async () => {
    while (next < o.cycles) {
      const b = `${instance}-${tag}-${next++}`;
      const bound = await timed('bind', [201], osb.call('PUT', `/v2/service_instances/${instance}/service_bindings/${b}`, { body: { service_id: DEFAULT_SERVICE_ID, plan_id: SMALL_PLAN_ID } }));
      // After a failed bind a platform deletes (orphan mitigation): 410 is then a fine answer.
      await timed('unbind', bound ? [200] : [200, 410], osb.call('DELETE', `/v2/service_instances/${instance}/service_bindings/${b}?${q}`));
      finished++;
      for (const w of waiters.filter((w) => finished >= w.n)) w.resolve();
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency }, worker)).then(
    (): LoadResult => ({ failures, latencies, maxMs: Math.max(0, ...latencies) }),
  );
  return {
    done,
    started: (n: number) => new Promise<void>((resolve) => (finished >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
