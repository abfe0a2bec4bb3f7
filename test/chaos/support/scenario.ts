// One chaos scenario: a platform runs instance lifecycles against warren while faults happen,
// then the faults stop and everything must settle. The checks are the same for every scenario:
// every operation resolved, the store and RabbitMQ agree both ways, warren's sockets and fds
// are back to their baseline (leak guard, settle-and-compare), no crash, and no answer came
// later than the request budget allows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeSettleFailure, settle } from '../../../packages/leakguard/src/settle.ts';
import { takeSnapshot, type Snapshot } from '../../../packages/leakguard/src/snapshot.ts';
import type { RequestFaultProxy } from '../../rabbitmq/helpers/request-fault-proxy.ts';
import { SMALL_PLAN_ID, STANDARD_PLAN_ID } from '../../../testkit/osb-client.ts';
import { BUDGET_MS, type ChaosWarren } from './chaos-warren.ts';
import { assertConsistent, type RabbitView } from './invariants.ts';
import { lifecycle, Platform } from './platform.ts';

/** An answer may come this much after the budget (scheduling on a loaded 2-core machine). */
export const ANSWER_SLACK_MS = 1_500;

export const newPrefix = (tag: string) => `wc-${tag}-${randomBytes(3).toString('hex')}-`;

export interface ScenarioFigures {
  scenario: string;
  lifecycles: number;
  /** OSBAPI operations the platform wanted done (each resolved, with whatever retries it took). */
  operations: number;
  /** Requests it sent for them (retries and orphan mitigation included, polls not). */
  requests: number;
  answers: number;
  byStatus: Record<string, number>;
  slowestAnswerMs: number;
  faults: Record<string, number>;
  lateLanded: number;
  orphanMitigations: number;
  restarts: number;
  recreatedUsersUndone: number;
  recreatedVhostsUndone: number;
  vhostsLeft: number;
  usersLeft: number;
  seconds: number;
}

export interface ScenarioOptions {
  name: string;
  warren: ChaosWarren;
  /** The fault proxy warren talks through, if any (cleared and drained before the checks). */
  proxy?: RequestFaultProxy;
  /** The port warren's management sockets go to (the proxy's, or RabbitMQ's own). */
  managementPort: number;
  rabbit: RabbitView;
  prefix: string;
  lifecycles: number;
  concurrency: number;
  /** How many lifecycles stop short of deprovision (their instance and bindings must remain whole). */
  keep?: number;
  /** Runs beside the lifecycles (kills, restarts); gets a function saying whether they are done. */
  during?: (done: () => boolean) => Promise<void>;
  /** Keep starting lifecycles (beyond `lifecycles`) until `during` has ended: load throughout. */
  loadUntilDuringEnds?: boolean;
  /** Drives the platform itself instead of the lifecycle workers (`lifecycles`/`keep` then only count). */
  drive?: (platform: Platform) => Promise<void>;
}

export function leakBaseline(w: ChaosWarren): Snapshot {
  return takeSnapshot(w.pid);
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioFigures> {
  const t0 = Date.now();
  const platform = new Platform({
    target: () => (o.warren.running ? o.warren.osb : undefined),
    answerTimeoutMs: BUDGET_MS + 10_000,
    resolveWithinMs: 120_000,
  });
  let baseline = leakBaseline(o.warren);
  let next = 0;
  let finished = 0;
  let sideEnded = !o.during;
  const worker = async () => {
    for (;;) {
      if (next >= o.lifecycles && (!o.loadUntilDuringEnds || sideEnded)) return;
      const n = next++;
      const id = `${o.prefix}${n}`;
      if (n < (o.keep ?? 0)) {
        await platform.provision(id, SMALL_PLAN_ID);
        await platform.bind(id, `${id}-b1`, SMALL_PLAN_ID);
        await platform.update(id, STANDARD_PLAN_ID);
      } else {
        await lifecycle(platform, id, { small: SMALL_PLAN_ID, standard: STANDARD_PLAN_ID });
      }
      finished++;
    }
  };
  if (o.drive) next = o.lifecycles;
  const workers = o.drive ? [o.drive(platform)] : Array.from({ length: o.concurrency }, worker);
  const side = (o.during ? o.during(() => finished >= o.lifecycles) : Promise.resolve()).finally(() => {
    sideEnded = true;
  });
  const results = await Promise.allSettled([...workers, side]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.deepEqual(failed.map((f) => String(f.reason?.message ?? f.reason)), [], 'every lifecycle resolved');

  // Faults off; the late writes land; the recovery job and the looks settle it all.
  o.proxy?.clear();
  await o.proxy?.drain();
  if (o.warren.restarts > 0) baseline = leakBaseline(o.warren);
  const c = await assertConsistent(o.warren.dataDir, o.rabbit, o.prefix, 30_000);

  const leaks = await settle(baseline, { peer: o.managementPort, allowedFdGrowth: 24, deadlineMs: 10_000 });
  assert.ok(leaks.ok, describeSettleFailure(leaks));
  assert.deepEqual(o.warren.crashes, [], 'no crash');
  const f = platform.figures();
  assert.ok(f.slowestMs <= BUDGET_MS + ANSWER_SLACK_MS, `slowest answer ${f.slowestMs} ms, budget ${BUDGET_MS} ms`);
  const logs = o.warren.parsedLogs();
  const figures: ScenarioFigures = {
    scenario: o.name,
    lifecycles: next,
    operations: Math.min(next, o.keep ?? 0) * 3 + Math.max(0, next - (o.keep ?? 0)) * 7,
    requests: platform.answers.filter((a) => !a.op.startsWith('poll')).length,
    answers: f.answers,
    byStatus: f.byStatus,
    slowestAnswerMs: f.slowestMs,
    faults: Object.fromEntries(Object.entries(o.proxy?.counts() ?? {}).filter(([, n]) => n > 0)),
    lateLanded: o.proxy?.lateLanded ?? 0,
    orphanMitigations: platform.orphanMitigations,
    restarts: o.warren.restarts,
    recreatedUsersUndone: logs.filter((l) => /re-created the user/.test(String(l['msg']))).length,
    recreatedVhostsUndone: logs.filter((l) => /re-created the vhost/.test(String(l['msg']))).length,
    vhostsLeft: c.vhosts,
    usersLeft: c.users,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  const code = await o.warren.stop();
  assert.equal(code, 0, 'warren stops cleanly on SIGTERM');
  return figures;
}
