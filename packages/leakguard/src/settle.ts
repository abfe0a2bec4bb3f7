// Settle-and-compare: after the code under test has run, poll the process until it is back to
// its baseline (no leak class, fd count within an allowed growth) or a deadline passes. Polling
// instead of one fixed sleep keeps clean runs fast and gives slow closes time to finish.
import { setTimeout as sleep } from 'node:timers/promises';
import { describeFdGrowth, describeLeakGroup } from './describe.ts';
import { diffSnapshots, type SnapshotDiff } from './diff.ts';
import { FdAccessDeniedError, findLeaks, leakCandidates, rememberSockets, type LeakReport } from './leak-classes.ts';
import type { PeerFilter } from './peer-filter.ts';
import { takeSnapshot, type Snapshot } from './snapshot.ts';

export interface SettleOptions {
  /** Process to watch; default: the baseline's pid. */
  pid?: number | 'self';
  /** Only sockets with this port or address:port at either end. The fd count is process-wide. */
  peer?: PeerFilter;
  /** How many more fds than the baseline are acceptable (default 0). */
  allowedFdGrowth?: number;
  /** Give up after this long (default 5000 ms, longer than undici's 4 s idle keep-alive); at least two samples are always taken. */
  deadlineMs?: number;
  /** Time between samples (default 100 ms). */
  pollIntervalMs?: number;
  /** Also blame leaks that were already present in the baseline (default false). */
  includePreexisting?: boolean;
}

export interface SettleResult {
  ok: boolean;
  pid: number;
  elapsedMs: number;
  samples: number;
  /** The leak classes found in the last samples (empty when ok). */
  report: LeakReport;
  fdGrowth: number;
  allowedFdGrowth: number;
  diff: SnapshotDiff;
  last: Snapshot;
}

export class LeakError extends Error {
  constructor(readonly result: SettleResult) {
    super(describeSettleFailure(result));
    this.name = 'LeakError';
  }
}

export function describeSettleFailure(result: SettleResult): string {
  const { report, diff } = result;
  const lines = report.groups.map((g) => `  ${describeLeakGroup(g)}`);
  if (result.fdGrowth > result.allowedFdGrowth) {
    lines.push(`  fd growth ${describeFdGrowth(diff)} over the baseline, allowed +${result.allowedFdGrowth}`);
    for (const c of diff.socketsNew.slice(0, 5)) lines.push(`    new: ${c.count} ${c.state} ${c.direction === 'in' ? 'on' : 'to'} ${c.peer}`);
  }
  if (report.unattributedGhosts > 0) {
    lines.push(`  note: ${report.unattributedGhosts} ghost socket fds of unknown peer, not counted under the peer filter`);
  }
  const head = report.groups[0];
  const summary = head === undefined ? `fd growth ${describeFdGrowth(diff)}` : describeLeakGroup(head);
  return (
    `leak guard: pid ${result.pid} still leaks after settling for ${result.elapsedMs} ms ` +
    `(${result.samples} samples): ${summary}\n${lines.join('\n')}`
  );
}

/** Polls until the process is back to its baseline or the deadline passes; never throws for leaks. */
export async function settle(baseline: Snapshot, options: SettleOptions = {}): Promise<SettleResult> {
  if (baseline.fds === null) throw new FdAccessDeniedError(baseline.pid);
  const pid = options.pid ?? baseline.pid;
  const allowedFdGrowth = options.allowedFdGrowth ?? 0;
  const intervalMs = options.pollIntervalMs ?? 100;
  const started = Date.now();
  const deadline = started + (options.deadlineMs ?? 5000);
  const seen = rememberSockets(new Map(), baseline);
  const judge = { peer: options.peer, baseline: options.includePreexisting ? undefined : baseline, seen };
  const window: Snapshot[] = [];
  let samples = 0;
  for (;;) {
    const snapshot = takeSnapshot(pid);
    samples++;
    rememberSockets(seen, snapshot);
    window.push(snapshot);
    if (window.length > 2) window.shift();
    if (snapshot.fds === null) throw new FdAccessDeniedError(snapshot.pid);
    const fdGrowth = snapshot.fds.total - baseline.fds.total;
    const fdOk = fdGrowth <= allowedFdGrowth;
    // One sample with nothing suspicious is enough to pass; failing needs two, so a socket
    // caught mid-read or mid-close is not blamed.
    const candidates = leakCandidates(snapshot, judge);
    const timeUp = Date.now() >= deadline && window.length >= 2;
    if ((fdOk && candidates.ok) || timeUp) {
      const report = candidates.ok ? candidates : findLeaks(window, judge);
      return {
        ok: fdOk && report.ok,
        pid: snapshot.pid,
        elapsedMs: Date.now() - started,
        samples,
        report,
        fdGrowth,
        allowedFdGrowth,
        diff: diffSnapshots(baseline, snapshot, { peer: options.peer }),
        last: snapshot,
      };
    }
    await sleep(intervalMs); // may overshoot the deadline by one interval, so samples stay comparable
  }
}

/** Like settle(), but throws a LeakError naming peer, class and counts when leaks remain. */
export async function assertNoLeaks(baseline: Snapshot, options: SettleOptions = {}): Promise<SettleResult> {
  const result = await settle(baseline, options);
  if (!result.ok) throw new LeakError(result);
  return result;
}
