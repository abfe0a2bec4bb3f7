// The soak: warren as its own process under a low `ulimit -n`, tens of thousands of bind/unbind
// cycles at high concurrency plus provision/deprovision cycles, some with live AMQP connections
// that unbind (or deprovision) must kill, some failing on purpose, while the leak module samples
// the broker process from outside. It fails on any leak class, on fd growth beyond the
// management pool, on RSS growth beyond a stated bound, on any unexpected answer, on a surviving
// AMQP connection and on anything left in RabbitMQ.
//
// runSoak() runs the phases in order; each lives in its own module:
//   setup, warm-up, quiet baseline   soak-setup.ts
//   the cycles and the cleanup       soak-cycles.ts (requests checked in soak-requests.ts)
//   sampling and progress            soak-sampler.ts
//   settle, teardown, verdicts       soak-finish.ts
// The tests call runSoak(); soak-run.ts is the CLI (npm run soak), soak-report.ts the output.
import { OsbClient } from '../../testkit/osb-client.ts';
import type { WarrenProcess } from '../../testkit/warren-process.ts';
import { runCycles } from './soak-cycles.ts';
import { cleanUp, judgeSeries, settleAndJudgeLeaks, tearDown } from './soak-finish.ts';
import type { SoakOptions } from './soak-options.ts';
import type { SoakResult } from './soak-result.ts';
import { Sampler } from './soak-sampler.ts';
import { armDeadline, prepareRabbitMQ, provisionInstances, startWarren, takeIdleBaseline, warmUpAndTakeBaseline } from './soak-setup.ts';
import { SoakRun, Stop } from './soak-state.ts';

export { DEFAULT_OPTIONS, type SoakOptions } from './soak-options.ts';
export { FAILURE_KINDS, type SoakResult } from './soak-result.ts';

export async function runSoak(partial: Partial<SoakOptions> = {}): Promise<SoakResult> {
  const run = new SoakRun(partial);
  const sampler = new Sampler(run);
  let deadlineTimer: NodeJS.Timeout | undefined;
  try {
    await prepareRabbitMQ(run);
    const w = await startWarren(run);
    takeIdleBaseline(run, w);
    sampler.start();
    deadlineTimer = armDeadline(run);
    await provisionInstances(run, w);
    await warmUpAndTakeBaseline(run, sampler, w);
    await measuredRun(run, sampler, w);
  } catch (err) {
    if (!(err instanceof Stop)) {
      run.fail(`soak aborted: ${(err as Error).stack ?? String(err)}`);
      run.stop(`aborted in the ${run.phase} phase`);
    }
  }

  try {
    clearTimeout(deadlineTimer);
    await cleanUp(run);
    if (run.warren && run.baseline && !run.warrenGone) await settleAndJudgeLeaks(run, sampler, run.baseline);
  } catch (err) {
    run.fail(`soak aborted while cleaning up or settling: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await tearDown(run, sampler);
  }

  judgeSeries(run);
  run.result.durationMs = run.since();
  run.result.ok = run.result.failures.length === 0;
  return run.result;
}

/** The measured bind/unbind cycles, on a fresh OSBAPI client. */
async function measuredRun(run: SoakRun, sampler: Sampler, w: WarrenProcess): Promise<void> {
  const { result, o } = run;
  run.client = new OsbClient({ url: w.url, username: w.username, password: w.password, connections: o.concurrency });
  run.enterPhase('run');
  const runStart = performance.now();
  const requestsAtStart = run.requestCount;
  try {
    await runCycles(run, sampler, o.cycles, 'run');
  } finally {
    result.runMs = performance.now() - runStart;
    result.requests.run = run.requestCount - requestsAtStart;
  }
  if (result.cycles.run < o.cycles && !run.stopReason) run.fail(`only ${result.cycles.run} of ${o.cycles} cycles ran`);
}
