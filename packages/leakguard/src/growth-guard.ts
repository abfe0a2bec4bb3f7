// "Run it again, does it keep growing?": a workload repeated round after round, with a look at
// the process after each. A pool warms up in the first rounds and then holds still; a leak
// grows every round. Catches leaks that a baseline comparison must allow for (a pool that may
// legitimately open sockets), in any test runner.
import { setTimeout as sleep } from 'node:timers/promises';
import { describeGrowth, findGrowth, type GrowthFinding } from './growth.ts';
import type { PeerFilter } from './peer-filter.ts';
import { takeSnapshot, type Snapshot } from './snapshot.ts';

export interface NoGrowthOptions {
  /** Rounds of the workload, each followed by a look (default 6; at least 3). */
  rounds?: number;
  /** Process to watch (default: this one). */
  pid?: number | 'self';
  /** Only socket series with this port or address:port at either end (fd series are process-wide). */
  peer?: PeerFilter;
  /** Pause after each round before looking, so closes can finish (default 50 ms). */
  settleMs?: number;
  /** Smallest rise over all rounds that counts (default 3). */
  minIncrease?: number;
}

export class GrowthError extends Error {
  constructor(readonly growth: GrowthFinding[], readonly samples: Snapshot[]) {
    const rounds = samples.length - 1;
    super(
      `leak guard: pid ${samples[0]?.pid} keeps growing over ${rounds} rounds of the workload:\n` +
        growth.map((g) => `  ${describeGrowth(g)}; by round: ${g.series.join(' → ')}`).join('\n'),
    );
    this.name = 'GrowthError';
  }
}

/**
 * Runs `workload` `rounds` times, looking at the process before the first round and after each;
 * throws a GrowthError naming what grew (fd kind, or peer and state) when a count rose steadily.
 */
export async function assertNoGrowth(workload: (round: number) => unknown, options: NoGrowthOptions = {}): Promise<GrowthFinding[]> {
  const rounds = Math.max(3, options.rounds ?? 6);
  const pid = options.pid ?? 'self';
  const samples = [takeSnapshot(pid)];
  for (let round = 0; round < rounds; round++) {
    await workload(round);
    await sleep(options.settleMs ?? 50);
    samples.push(takeSnapshot(pid));
  }
  // Judged from the end of the first round: what the first round opens for good (a pool, a
  // cache) is a step, not growth.
  const growth = findGrowth(samples.slice(1), { peer: options.peer, minIncrease: options.minIncrease });
  if (growth.length > 0) throw new GrowthError(growth, samples);
  return growth;
}
