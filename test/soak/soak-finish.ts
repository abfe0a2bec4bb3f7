// The soak's last phases and its verdicts: cleanup through warren, settling with the leak guard
// (the management peer, then the whole process), the teardown that reports surviving AMQP
// connections and anything left in RabbitMQ, and the bounds judged over the sampled series.
import { rmSync } from 'node:fs';
import { describeLeakGroup, describeSettleFailure, settle, summarizeSockets, type SettleResult, type Snapshot } from '../../packages/leakguard/src/index.ts';
import { cleanupThroughWarren } from './soak-cycles.ts';
import { FAILURE_KINDS, type LeakVerdict } from './soak-result.ts';
import type { Sampler } from './soak-sampler.ts';
import type { SoakRun } from './soak-state.ts';
import { mb } from './soak-support.ts';

/** Gives back, through warren, whatever the soak holds (always, bounded), and removes the foreign vhost. */
export async function cleanUp(run: SoakRun): Promise<void> {
  run.enterPhase('cleanup');
  if (run.stopReason) await run.dropClient(); // an aborted run may have requests hanging
  try {
    await cleanupThroughWarren(run, 60_000);
  } catch (err) {
    run.fail(`cleanup through warren failed: ${(err as Error).message}`);
  }
  const dfv = await run.admin.call('DELETE', `vhosts/${encodeURIComponent(run.foreignVhost)}`);
  if (dfv.status !== 204 && dfv.status !== 404) run.fail(`deleting vhost ${run.foreignVhost}: ${dfv.status} ${dfv.text.slice(0, 200)}`);
  await run.client?.close().catch(() => undefined);
  run.client = undefined;
}

/** Lets the leak guard wait for warren to be back at the baseline; each leak group and excess fd growth fails. */
export async function settleAndJudgeLeaks(run: SoakRun, sampler: Sampler, baseline: Snapshot): Promise<void> {
  const { o, result } = run;
  run.enterPhase('settle');
  const verdicts: Array<[string, SettleResult]> = [];
  const settleOptions = { allowedFdGrowth: o.poolConnections, deadlineMs: o.settleMs, includePreexisting: true };
  verdicts.push([`peer ${run.mgmtPort} (management)`, await settle(baseline, { ...settleOptions, peer: run.mgmtPort })]);
  verdicts.push(['whole process', await settle(baseline, settleOptions)]);
  for (const [scope, r] of verdicts) {
    const v: LeakVerdict = {
      scope,
      ok: r.ok,
      elapsedMs: r.elapsedMs,
      samples: r.samples,
      fdGrowth: r.fdGrowth,
      allowedFdGrowth: r.allowedFdGrowth,
      counts: r.report.counts,
      groups: r.report.groups.map((g) => ({ leakClass: g.leakClass, peer: g.peer, direction: g.direction, count: g.count, rxBytes: g.rxBytes, text: describeLeakGroup(g) })),
      message: r.ok ? null : describeSettleFailure(r),
    };
    result.leaks.push(v);
    for (const g of v.groups) {
      if (!result.leakClassesFound.includes(g.leakClass)) result.leakClassesFound.push(g.leakClass);
      run.fail(`leak (${scope}): ${g.text}`);
    }
    if (r.fdGrowth > r.allowedFdGrowth) {
      run.fail(
        `fd growth +${r.fdGrowth} over the ${run.baselineKind} baseline (${baseline.fds?.total}) after settling (${scope}), allowed +${r.allowedFdGrowth} (the management pool)`,
      );
    }
  }
  const last = verdicts[1]![1].last;
  result.socketsAtEnd = summarizeSockets(last);
  result.fds.final = last.fds?.total ?? null;
  sampler.sampleOnce();
}

/** Always runs: closes what the soak opened, reports what survived or was left, and stops warren. */
export async function tearDown(run: SoakRun, sampler: Sampler): Promise<void> {
  const { o, result, admin, prefix } = run;
  if (run.stopReason) run.fail(`stopped early: ${run.stopReason}`);
  sampler.stop();
  for (const live of run.openConnections) {
    if (!live.isClosed()) {
      result.amqp.survived++;
      run.survivedBy['the end of the soak'] = (run.survivedBy['the end of the soak'] ?? 0) + 1;
    }
    await live.conn.close().catch(() => undefined);
  }
  for (const [by, n] of Object.entries(run.survivedBy)) {
    run.fail(`${n} AMQP connection(s) survived ${by}: no 'close' within ${o.amqpCloseTimeoutMs} ms after the answer`);
  }
  if (result.amqp.connectFailed > 0) {
    run.fail(`${result.amqp.connectFailed} AMQP connect(s) with a fresh binding's credentials failed, e.g. ${run.firstConnectError}`);
  }
  run.closePhase();
  // Anything the soak created that RabbitMQ still holds is a failure; remove it anyway.
  try {
    await admin.call('DELETE', `vhosts/${encodeURIComponent(run.foreignVhost)}`);
    const users = await admin.namesWithPrefix('users', prefix);
    const vhosts = await admin.namesWithPrefix('vhosts', prefix);
    result.leftovers = { users, vhosts };
    if (users.length || vhosts.length) {
      run.fail(`left in RabbitMQ: ${users.length} user(s) ${users.slice(0, 5).join(', ')}; ${vhosts.length} vhost(s) ${vhosts.slice(0, 5).join(', ')}`);
    }
  } catch (err) {
    run.fail(`could not check RabbitMQ for leftovers: ${(err as Error).message}`);
  }
  const stopAt = run.since();
  if (run.warren) {
    run.stopping = true;
    const exitedBefore = run.warrenGone;
    result.warrenExit = await run.warren.stop();
    if (!exitedBefore && result.warrenExit !== 0) run.fail(`warren exited with ${result.warrenExit} on SIGTERM`);
  }
  result.phases.push({ name: 'stop', startMs: stopAt, endMs: run.since() });
  await admin.purge(prefix).catch(() => undefined);
  await admin.close().catch(() => undefined);
  if (run.configDir) rmSync(run.configDir, { recursive: true, force: true });
}

/** Latencies, throughput, and the bounds judged over the samples: peak fds, RSS growth, answers. */
export function judgeSeries(run: SoakRun): void {
  const { o, result } = run;
  const samples = result.samples;
  for (const [op, l] of run.latencies) result.ops[op] = l.summary();
  result.requests.total = run.requestCount;
  const runSec = result.runMs / 1000;
  result.throughput = {
    cyclesPerSec: runSec > 0 ? result.cycles.run / runSec : 0,
    requestsPerSec: runSec > 0 ? result.requests.run / runSec : 0,
  };
  const fdTotals = samples.map((s) => s.fds.total);
  if (fdTotals.length) {
    result.fds.min = Math.min(...fdTotals);
    result.fds.max = Math.max(...fdTotals);
    result.fds.final ??= fdTotals.at(-1)!;
    result.fds.soft = samples.at(-1)!.soft;
  }
  if (result.fds.peakBound !== null && result.fds.max !== null && result.fds.max > result.fds.peakBound) {
    run.fail(
      `peak fds ${result.fds.max} above the bound ${result.fds.peakBound} ` +
        `(idle ${result.fds.idle} + pool ${o.poolConnections} + OSBAPI connections ${o.concurrency} + slack ${o.fdSlack})`,
    );
  }
  const afterWarmup = samples.filter((s) => s.phase === 'run' || s.phase === 'cleanup' || s.phase === 'settle');
  const rss = afterWarmup.map((s) => s.rssKb).filter((v): v is number => v !== null);
  if (rss.length) {
    result.rss.peakKb = Math.max(...rss);
    result.rss.endKb = rss.at(-1)!;
  }
  if (result.rss.baselineKb !== null && result.rss.peakKb !== null && result.rss.peakKb - result.rss.baselineKb > o.rssBoundMb * 1024) {
    run.fail(`RSS grew by ${mb(result.rss.peakKb - result.rss.baselineKb)} MB over the post-warm-up ${mb(result.rss.baselineKb)} MB, bound ${o.rssBoundMb} MB`);
  }
  if (result.unexpected.count > 0) run.fail(`${result.unexpected.count} unexpected answer(s), e.g. ${result.unexpected.examples[0]}`);
  for (const k of FAILURE_KINDS) {
    if (o.failEvery > 0 && o.cycles >= o.failEvery * FAILURE_KINDS.length && result.expected[k.kind]!.count === 0 && !result.stoppedEarly) {
      run.fail(`expected failure ${k.kind} never happened`);
    }
  }
}
