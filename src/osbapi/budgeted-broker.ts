// Every OSBAPI request gets a time budget (default 25 s, well under the 60 s platforms wait).
// The broker's work runs under it (deadline/budget.ts carries it to every outgoing call), and the
// answer never comes later than the budget: if the work has not answered by then, the platform
// gets 503 and the work, which is recorded durably, goes on or is finished by the recovery job.
// A platform that disconnects cancels nothing.
import { withBudget } from '../deadline/budget.ts';
import { settledWithin } from '../deadline/settled-within.ts';
import { unavailable } from '../contract/broker-errors.ts';
import type { ServiceBroker } from '../contract/service-broker.ts';

/** Extra time after the budget for the work's own deadline error to arrive before we answer for it. */
const GRACE_MS = 250;

async function bounded<T>(budgetMs: number, what: string, fn: () => Promise<T>): Promise<T> {
  return withBudget(budgetMs, async (budget) => {
    const work = fn();
    const r = await settledWithin(work, budget.remaining() + GRACE_MS);
    if (!r.done) {
      work.catch(() => undefined); // settles later; its outcome is recorded by the broker
      throw unavailable(`${what} did not finish within ${Math.round(budgetMs / 1000)} s; the operation goes on, retry or poll shortly`);
    }
    if ('error' in r) throw r.error;
    return r.value;
  });
}

/** The same broker, each call bounded by the request budget. */
export function budgetedBroker(broker: ServiceBroker, budgetMs: number): ServiceBroker {
  return {
    catalog: () => broker.catalog(),
    provision: (id, d, ctx) => bounded(budgetMs, 'provisioning', () => broker.provision(id, d, ctx)),
    update: (id, d, ctx) => bounded(budgetMs, 'the update', () => broker.update(id, d, ctx)),
    deprovision: (id, d, ctx) => bounded(budgetMs, 'deprovisioning', () => broker.deprovision(id, d, ctx)),
    getInstance: (id, d, ctx) => bounded(budgetMs, 'fetching the instance', () => broker.getInstance(id, d, ctx)),
    lastOperation: (id, d, ctx) => bounded(budgetMs, 'last_operation', () => broker.lastOperation(id, d, ctx)),
    bind: (id, bid, d, ctx) => bounded(budgetMs, 'binding', () => broker.bind(id, bid, d, ctx)),
    unbind: (id, bid, d, ctx) => bounded(budgetMs, 'unbinding', () => broker.unbind(id, bid, d, ctx)),
    getBinding: (id, bid, d, ctx) => bounded(budgetMs, 'fetching the binding', () => broker.getBinding(id, bid, d, ctx)),
    lastBindingOperation: (id, bid, d, ctx) => bounded(budgetMs, 'last_operation', () => broker.lastBindingOperation(id, bid, d, ctx)),
  };
}
