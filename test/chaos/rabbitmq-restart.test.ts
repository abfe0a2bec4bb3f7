// RabbitMQ restarted under load: the suite's own node (scripts/chaos-node.sh, never the
// machine's rabbit@localhost) has its application stopped and started twice while a platform
// runs lifecycles. warren talks to the node directly, so it meets what a restart really does:
// keep-alive sockets closed by the server, connections refused, then a management API that
// answers again. Every operation resolves, nothing is orphaned, no socket leaks.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ChaosWarren } from './support/chaos-warren.ts';
import { RabbitView } from './support/invariants.ts';
import { newPrefix, runScenario } from './support/scenario.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const MGMT_PORT = 15761;
const AMQP_PORT = 5761;
const node = (cmd: 'up' | 'restart-app' | 'down') => run('bash', ['scripts/chaos-node.sh', cmd], { cwd: ROOT, timeout: 180_000 });

describe('chaos: RabbitMQ restarted under load', { timeout: 420_000 }, () => {
  const rabbit = new RabbitView(`http://127.0.0.1:${MGMT_PORT}`);
  const prefix = newPrefix('restart');
  let w: ChaosWarren | undefined;
  before(async () => {
    await node('up');
  });
  after(async () => {
    await w?.dispose();
    await rabbit.purge(prefix).catch(() => undefined);
    await rabbit.close();
    // WARREN_CHAOS_KEEP_NODE=1 keeps the node for the next run (development).
    if (!process.env['WARREN_CHAOS_KEEP_NODE']) await node('down');
  });

  it('the RabbitMQ application stopped and started twice while lifecycles run', async (t) => {
    const warren = (w = new ChaosWarren({ managementPort: MGMT_PORT, amqpPort: AMQP_PORT }));
    await warren.start();
    let restarts = 0;
    const figures = await runScenario({
      name: 'RabbitMQ restarted under load', warren, managementPort: MGMT_PORT, rabbit, prefix, lifecycles: 8, concurrency: 4, keep: 2, loadUntilDuringEnds: true,
      during: async () => {
        for (let k = 0; k < 2; k++) {
          await sleep(1_000 + Math.random() * 1_000);
          await node('restart-app');
          restarts++;
        }
      },
    });
    t.diagnostic(`figures ${JSON.stringify({ ...figures, rabbitmqRestarts: restarts })}`);
  });
});
