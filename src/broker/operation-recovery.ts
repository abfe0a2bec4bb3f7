// Finishes what a dead (or stuck) replica left: operations still 'in progress' whose lease has
// expired, and follow-ups that came due. Runs as a background job, once per deployment. What a
// recovered operation does depends on what the platform was told: a synchronous create was never
// confirmed (the platform saw an error or nothing, and will clean up), so it is rolled back; an
// asynchronous one (202) and every delete is rolled forward; an update goes back to its old
// plan unless it was asynchronous.
import { withBudget } from '../deadline/budget.ts';
import type { OperationRecord } from '../store/store.ts';
import { teardownBinding, unbuildBinding } from './binding-operations.ts';
import type { BrokerDeps } from './broker-deps.ts';
import { DurableOperation } from './durable-operation.ts';
import { forEachLimited } from './for-each-limited.ts';
import { followUp, inDoubtLookAt } from './in-doubt-checks.ts';
import { applyUpdate, buildInstance, revertUpdate, teardownInstance, unbuildInstance, type UpdateIntent } from './instance-steps.ts';

const BATCH = 20;
/** Follow-up looks made at once (each is a management call or two). */
const FOLLOWUP_CONCURRENCY = 4;
/** A follow-up look that failed is made again this much later. */
const FAILED_LOOK_RETRY_MS = 2_000;

/** One pass: takes over each abandoned operation and finishes it. Returns how many it finished. */
export async function recoverAbandoned(deps: BrokerDeps): Promise<number> {
  let finished = 0;
  for (const rec of await deps.store.listAbandonedOperations(BATCH)) {
    if (!(await deps.store.takeOverOperation(rec.id, deps.coordination.owner, deps.coordination.leaseMs))) continue;
    const op = new DurableOperation(deps, rec.id, {
      resourceType: rec.resourceType, resourceId: rec.resourceId, instanceId: rec.instanceId, kind: rec.kind, intent: rec.intent,
    }).keepAlive();
    try {
      const outcome = await withBudget(deps.coordination.asyncBudgetMs, () => recoverOne(deps, op, rec));
      await op.finish({ state: outcome.state, description: outcome.description, followupAt: outcome.followupAt ?? null });
      deps.log.info({ operation: rec.id, kind: rec.kind, resource: rec.resourceId, outcome: outcome.state }, 'finished an operation a stopped replica left');
      finished++;
    } catch (err) {
      deps.log.warn({ operation: rec.id, kind: rec.kind, resource: rec.resourceId, err: (err as Error)?.message }, 'recovering an operation failed; will try again');
      await op.abandon();
    }
  }
  return finished;
}

interface Recovered {
  state: 'succeeded' | 'failed';
  description: string | null;
  /** A look for writes in doubt after this outcome (in-doubt-checks.ts). */
  followupAt?: string;
}

async function recoverOne(deps: BrokerDeps, op: DurableOperation, rec: OperationRecord): Promise<Recovered> {
  const async = rec.intent?.['async'] === true;
  const later = inDoubtLookAt(deps);
  switch (rec.kind) {
    case 'provision': {
      const instance = await deps.store.getInstance(rec.resourceId);
      if (!instance || instance.state === 'ready') return { state: instance ? 'succeeded' : 'failed', description: null };
      const ref = deps.catalog.plan(instance.serviceId, instance.planId);
      if (async && ref) {
        await buildInstance(deps, instance.id, instance.vhost, ref);
        return { state: 'succeeded', description: null };
      }
      await unbuildInstance(deps, instance.id, instance.vhost);
      return { state: 'failed', description: 'provisioning was interrupted and has been rolled back; provision again', followupAt: later };
    }
    case 'update': {
      const intent = rec.intent as UpdateIntent | null;
      if (!intent) return { state: 'failed', description: 'update was interrupted before it changed anything' };
      if (async) {
        await applyUpdate(deps, rec.resourceId, intent);
        // Its replica stopped mid-way: a rewrite of a user it sent may still land.
        return { state: 'succeeded', description: null, followupAt: later };
      }
      await revertUpdate(deps, rec.resourceId, intent);
      return { state: 'failed', description: 'update was interrupted; the previous plan was restored, repeat the update', followupAt: later };
    }
    case 'deprovision': {
      const instance = await deps.store.getInstance(rec.resourceId);
      if (instance) {
        const previous = rec.intent?.['previousState'];
        await teardownInstance(deps, instance, typeof previous === 'string' ? (previous as typeof instance.state) : instance.state);
      }
      return { state: 'succeeded', description: null, followupAt: later };
    }
    case 'bind': {
      const binding = await deps.store.getBinding(rec.resourceId, { withCredentials: false });
      if (binding?.state === 'ready') {
        // Its replica stopped with the user made: a PUT of it may still be on its way.
        await op.setIntent({ ...(rec.intent ?? {}), username: binding.username });
        return { state: 'succeeded', description: null, followupAt: later };
      }
      if (!binding) return { state: 'failed', description: 'binding was interrupted and has been rolled back; bind again' };
      await unbuildBinding(deps, binding.id, binding.username);
      await op.setIntent({ ...(rec.intent ?? {}), username: binding.username });
      return { state: 'failed', description: 'binding was interrupted and has been rolled back; bind again', followupAt: later };
    }
    case 'unbind': {
      const binding = await deps.store.getBinding(rec.resourceId, { withCredentials: false });
      if (binding) await teardownBinding(deps, binding.id, binding.username);
      // Its replica stopped mid-way: what it sent is in doubt, so the late look is followed by one for late writes.
      await op.setIntent({ ...(rec.intent ?? {}), ...(binding ? { username: binding.username } : {}), writesInDoubt: true });
      return { state: 'succeeded', description: 'binding deleted', followupAt: later };
    }
  }
}

/**
 * Makes the follow-ups that came due, whoever recorded them: the unbind's late look at
 * connections, and the looks for writes in doubt (in-doubt-checks.ts), each re-armed for its next
 * look or cleared. A look that fails is made again a little later.
 */
export async function runDueFollowups(deps: BrokerDeps): Promise<number> {
  const due = await deps.store.listDueFollowups(500);
  const done: string[] = [];
  const look = async (rec: OperationRecord) => {
    try {
      const next = await withBudget(deps.coordination.asyncBudgetMs, () => followUp(deps, rec));
      if (next) await deps.store.rearmFollowup(rec.id, next.at, next.intent);
      else done.push(rec.id);
    } catch (err) {
      // RabbitMQ or the store unreachable: look again a little later, not at every tick.
      deps.log.debug({ operation: rec.id, kind: rec.kind, err: (err as Error)?.message }, 'a follow-up look failed; will try again');
      await deps.store.rearmFollowup(rec.id, inDoubtLookAt(deps, FAILED_LOOK_RETRY_MS), rec.intent).catch(() => undefined);
    }
  };
  // A few at a time: a burst of looks would take the management pool from the requests.
  await forEachLimited(due, FOLLOWUP_CONCURRENCY, look);
  // Most looks end here (an unbind's late look found nothing): one write clears them all.
  if (done.length) await deps.store.clearFollowups(done);
  return due.length;
}
