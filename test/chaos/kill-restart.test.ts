// kill -9 of warren at random points of every kind of operation, each followed by a restart on
// the same data dir (same store), while a platform runs lifecycles and retries: the next process
// finishes or rolls back what the killed one left, and the platform's retries and orphan
// mitigation converge. Every management request is held 80 ms by the proxy, so an operation
// lasts long enough for a kill to land inside it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { SMALL_PLAN_ID, STANDARD_PLAN_ID } from '../../testkit/osb-client.ts';
import { ChaosRun } from './support/chaos-run.ts';
import { RabbitView } from './support/invariants.ts';
import { newPrefix, runScenario } from './support/scenario.ts';

const rabbit = new RabbitView('http://127.0.0.1:15672');
const prefix = newPrefix('kill');
const KILLS = 10;

describe('chaos: kill -9 and restart', { timeout: 300_000 }, () => {
  const run = new ChaosRun(rabbit, prefix);
  after(async () => {
    await run.dispose();
    await rabbit.close();
  });

  it(`warren killed ${KILLS} times at random points of provision, bind, update, unbind and deprovision`, async (t) => {
    const { proxy, warren } = await run.start({ delayMs: 80 });
    // Which operation each kill interrupted: the management requests in flight say so.
    const interrupted: Record<string, number> = {};
    const figures = await runScenario({
      name: 'kill -9 and restart', warren, proxy, managementPort: proxy.port, rabbit, prefix, lifecycles: 4, concurrency: 2, keep: 1,
      during: async (done) => {
        for (let k = 0; k < KILLS && !done(); k++) {
          await sleep(150 + Math.random() * 900);
          if (done()) break;
          const last = proxy.seen.at(-1);
          if (last) {
            const what = `${last.method} ${last.path.split('/')[2] ?? ''}`;
            interrupted[what] = (interrupted[what] ?? 0) + 1;
          }
          await warren.restart();
        }
      },
    });
    t.diagnostic(`figures ${JSON.stringify(figures)}`);
    t.diagnostic(`last management request before each kill ${JSON.stringify(interrupted)}`);
    assert.ok(figures.restarts >= 5, `killed ${figures.restarts} times`);
  });

  it('each kind of operation killed at a random step of its own, while its management request is in flight', async (t) => {
    const { proxy: p, warren } = await run.start({ delayMs: 80 });
    const enc = encodeURIComponent;
    const killedAt: string[] = [];
    const killedKinds = new Set<string>();
    const figures = await runScenario({
      name: 'kill -9 inside each operation', warren, proxy: p, managementPort: p.port, rabbit, prefix: `${prefix}e`, lifecycles: 2, concurrency: 1,
      drive: async (platform) => {
        for (let round = 0; round < 2; round++) {
          const id = `${prefix}e${round}`;
          const b = `${id}-b1`;
          // Each operation, its management requests (how many it makes), and the work itself.
          const ops: Array<[string, number, (line: string) => boolean, () => Promise<unknown>]> = [
            ['provision', 5, (l) => l.includes(enc(id)), () => platform.provision(id, SMALL_PLAN_ID)],
            ['bind', 4, (l) => l.includes(enc(b)), () => platform.bind(id, b, SMALL_PLAN_ID)],
            ['update', 7, (l) => l.includes(enc(id)) || l.includes(enc(b)), () => platform.update(id, STANDARD_PLAN_ID)],
            ['unbind', 2, (l) => l.includes(enc(b)), () => platform.unbind(id, b)],
            ['deprovision', 1, (l) => l.includes(`/api/vhosts/${enc(id)}`), () => platform.deprovision(id)],
          ];
          for (const [kind, steps, mine, run] of ops) {
            const k = 1 + Math.floor(Math.random() * steps);
            let seen = 0;
            let kill: Promise<void> | undefined;
            p.onRequest = (line) => {
              if (kill || !mine(line) || ++seen !== k) return;
              killedAt.push(`${kind} at request ${k}: ${line.replace(prefix, '')}`);
              killedKinds.add(kind);
              kill = warren.restart();
            };
            await run();
            p.onRequest = undefined;
            await kill;
          }
        }
      },
    });
    t.diagnostic(`figures ${JSON.stringify(figures)}`);
    t.diagnostic(`kills ${JSON.stringify(killedAt)}`);
    assert.deepEqual([...killedKinds].sort(), ['bind', 'deprovision', 'provision', 'unbind', 'update']);
  });
});
