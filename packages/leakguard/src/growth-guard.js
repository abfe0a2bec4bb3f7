// "Run it again, does it keep growing?": a workload repeated round after round, with a look at
// the process after each. A pool warms up in the first rounds and then holds still; a leak
// grows every round. Catches leaks that a baseline comparison must allow for (a pool that may
// legitimately open sockets), in any test runner.
import { setTimeout as sleep } from 'node:timers/promises';
import { describeGrowth, findGrowth } from "./growth.js";
import { takeSnapshot } from "./snapshot.js";
export class GrowthError extends Error {
    growth;
    samples;
    constructor(growth, samples) {
        const rounds = samples.length - 1;
        super(`leak guard: pid ${samples[0]?.pid} keeps growing over ${rounds} rounds of the workload:\n` +
            growth.map((g) => `  ${describeGrowth(g)}; by round: ${g.series.join(' → ')}`).join('\n'));
        this.growth = growth;
        this.samples = samples;
        this.name = 'GrowthError';
    }
}
/**
 * Runs `workload` `rounds` times, looking at the process before the first round and after each;
 * throws a GrowthError naming what grew (fd kind, or peer and state) when a count rose steadily.
 */
export async function assertNoGrowth(workload, options = {}) {
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
    if (growth.length > 0)
        throw new GrowthError(growth, samples);
    return growth;
}
