// The management API misbehaving in every way the fault proxy knows, about a fifth of all
// requests, while a platform runs lifecycles with retries and orphan mitigation: every operation
// resolves, nothing is orphaned either way, no leak, no crash, no answer past the budget.
import { after, describe, it } from 'node:test';
import { REQUEST_FAULTS } from '../rabbitmq/helpers/request-fault-proxy.ts';
import { ChaosRun } from './support/chaos-run.ts';
import { RabbitView } from './support/invariants.ts';
import { newPrefix, runScenario } from './support/scenario.ts';

const rabbit = new RabbitView('http://127.0.0.1:15672');
const prefix = newPrefix('faults');

describe('chaos: management API faults', { timeout: 300_000 }, () => {
  const run = new ChaosRun(rabbit, prefix);
  after(async () => {
    await run.dispose();
    await rabbit.close();
  });

  it('20 % of management requests faulted (lost, applied with the answer lost, stalled, 503, truncated, slow drip, late)', async (t) => {
    const { proxy, warren: w } = await run.start({ seed: 10, lateMs: 2_500, dripMs: 150 });
    // Faults only on the operations' own requests, not on the health probe (GET /api/overview).
    for (const fault of REQUEST_FAULTS) proxy.add({ fault, match: /^[A-Z]+ \/api\/(?!overview)/, probability: 0.03 });
    const figures = await runScenario({ name: 'management faults', warren: w, proxy, managementPort: proxy.port, rabbit, prefix, lifecycles: 10, concurrency: 4, keep: 2 });
    t.diagnostic(`figures ${JSON.stringify(figures)}`);
  });
});
