// kill -9 of warren at random points of every kind of operation, each followed by a restart on
// the same data dir (same store), while a platform runs lifecycles and retries: the next process
// finishes or rolls back what the killed one left, and the platform's retries and orphan
// mitigation converge. Every management request is held 80 ms by the proxy, so an operation
// lasts long enough for a kill to land inside it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { RequestFaultProxy } from '../rabbitmq/helpers/request-fault-proxy.ts';
import { ChaosWarren } from './support/chaos-warren.ts';
import { RabbitView } from './support/invariants.ts';
import { newPrefix, runScenario } from './support/scenario.ts';

const rabbit = new RabbitView('http://127.0.0.1:15672');
const prefix = newPrefix('kill');
const KILLS = 10;

describe('chaos: kill -9 and restart', { timeout: 300_000 }, () => {
  let proxy: RequestFaultProxy | undefined;
  let w: ChaosWarren | undefined;
  after(async () => {
    await w?.dispose();
    await proxy?.close();
    await rabbit.purge(prefix);
    await rabbit.close();
  });

  it(`warren killed ${KILLS} times at random points of provision, bind, update, unbind and deprovision`, async (t) => {
    proxy = await RequestFaultProxy.start(15672, { delayMs: 80 });
    const warren = (w = new ChaosWarren({ managementPort: proxy.port }));
    await warren.start();
    // Which operation each kill interrupted: the management requests in flight say so.
    const interrupted: Record<string, number> = {};
    const figures = await runScenario({
      name: 'kill -9 and restart', warren, proxy, managementPort: proxy.port, rabbit, prefix, lifecycles: 4, concurrency: 2, keep: 1,
      during: async (done) => {
        for (let k = 0; k < KILLS && !done(); k++) {
          await sleep(150 + Math.random() * 900);
          if (done()) break;
          const last = proxy!.seen.at(-1);
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
});
