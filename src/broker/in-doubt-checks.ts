// Writes in doubt. A management call that timed out, or whose answer was lost, may still reach
// RabbitMQ later: a request held by a slow path, or the first try of an attempt the funnel
// retried. So an operation that removed or rolled back something looks again once no request of
// its own can still be on its way (Coordination.inDoubtLookMs), re-reads RabbitMQ and undoes
// what should not exist: above all a binding user that no live binding owns (its credentials
// may have been handed out), a vhost of ours that no instance owns, and the target plan of an
// update that was rolled back. The looks are follow-ups recorded with the operation
// (followup_at), so whichever replica runs the background jobs makes them.
import { BrokerError } from '../contract/broker-errors.ts';
import type { OperationRecord } from '../store/store.ts';
import { lateLook, removeBindingUser } from './binding-user-removal.ts';
import { forEachLimited } from './for-each-limited.ts';
import type { BrokerDeps } from './broker-deps.ts';
import { beginOperation, type DurableOperation } from './durable-operation.ts';
import { deleteOurVhost, revertUpdate, type UpdateIntent } from './instance-steps.ts';
import { vhostMarker } from './plan-in-rabbitmq.ts';

/** A look that undid something looks again (a retried write can land twice), at most this often. */
export const MAX_IN_DOUBT_LOOKS = 3;
/** When the resource is busy with a live operation, the look is made again this much later. */
const BUSY_RETRY_MS = 1_000;

/** When the look for late writes is due: once nothing the operation sent can still land. */
export const inDoubtLookAt = (deps: BrokerDeps, after = deps.coordination.inDoubtLookMs): string =>
  new Date(Date.now() + after).toISOString();

/** The next look of a follow-up, or null when it is done. */
export interface NextLook {
  at: string;
  intent: Record<string, unknown>;
}

type Verdict = 'clean' | 'undone' | 'busy';

/**
 * Makes one due follow-up of a finished operation. An unbind's first look is the late look at
 * connections (binding-user-removal.ts); every later one is a look for writes in doubt.
 */
export async function followUp(deps: BrokerDeps, rec: OperationRecord): Promise<NextLook | null> {
  const intent = rec.intent ?? {};
  const looks = typeof intent['inDoubtLooks'] === 'number' ? intent['inDoubtLooks'] : 0;
  const username = typeof intent['username'] === 'string' ? intent['username'] : undefined;
  if (rec.kind === 'unbind' && username && intent['look'] !== 'in-doubt') {
    await lateLook(deps, username);
    // A delete landing late re-creates nothing; only an unbind that left a write in doubt, or
    // one a stopped replica left, looks again (a bind's own late PUT is its own look's business).
    return intent['writesInDoubt'] === true ? { at: inDoubtLookAt(deps), intent: { ...intent, look: 'in-doubt' } } : null;
  }
  const verdict = await lookForLateWrites(deps, rec, username);
  if (verdict === 'busy') return { at: inDoubtLookAt(deps, BUSY_RETRY_MS), intent };
  if (verdict === 'undone' && looks + 1 < MAX_IN_DOUBT_LOOKS) {
    return { at: inDoubtLookAt(deps), intent: { ...intent, look: 'in-doubt', inDoubtLooks: looks + 1 } };
  }
  return null;
}

/** An update's users are checked a few at a time (each check is one or two management calls). */
const USER_CHECKS_AT_ONCE = 4;

async function lookForLateWrites(deps: BrokerDeps, rec: OperationRecord, username: string | undefined): Promise<Verdict> {
  switch (rec.kind) {
    case 'unbind':
    case 'bind':
      return username ? removeUnownedUser(deps, rec, rec.resourceId, username) : 'clean';
    case 'provision':
    case 'deprovision':
      return removeUnownedVhost(deps, rec);
    case 'update': {
      // The users it rewrote (or put back), then the plan if it failed.
      let verdict: Verdict = 'clean';
      await forEachLimited((rec.intent as UpdateIntent | null)?.users ?? [], USER_CHECKS_AT_ONCE, async (u) => {
        if ((await removeUnownedUser(deps, rec, u.bindingId, u.username)) === 'undone') verdict = 'undone';
      });
      const plan = rec.state === 'failed' ? await reassertPlan(deps, rec) : 'clean';
      return plan === 'clean' ? verdict : plan;
    }
  }
}

/**
 * A binding's user exists while its binding does not own it (unbound, rolled back): a late PUT
 * re-created it. Usernames carry a random part and a binding keeps its own for life, so no later
 * bind can come to own this one: deleting it (and its connections) races with nothing.
 */
async function removeUnownedUser(deps: BrokerDeps, rec: OperationRecord, bindingId: string, username: string): Promise<Verdict> {
  if (!(await deps.rabbit.getUser(username))) return 'clean';
  // Still owned by its binding: in use, or being deleted by an unbind that sees to it.
  const binding = await deps.store.getBinding(bindingId, { withCredentials: false });
  if (binding && binding.username === username) return 'clean';
  deps.log.warn(
    { operation: rec.id, kind: rec.kind, binding_id: bindingId, username },
    'a late write re-created the user of a removed binding; deleting it',
  );
  await removeBindingUser(deps, username);
  return 'undone';
}

/**
 * Our vhost exists while no instance record owns it (provision rolled back, instance deleted): a
 * late PUT re-created it. A vhost is named after its instance, so a new provision of the same id
 * may be starting: the check and the delete run under an operation on the instance, which a live
 * one refuses (then the look comes back later). The probe operation is discarded afterwards;
 * should this replica die meanwhile, its recovery is that of the operation followed up, and
 * harmless with no instance record.
 */
async function removeUnownedVhost(deps: BrokerDeps, rec: OperationRecord): Promise<Verdict> {
  const instanceId = rec.resourceId;
  const vhost = typeof rec.intent?.['vhost'] === 'string' ? (rec.intent['vhost'] as string) : instanceId;
  const found = await deps.rabbit.getVhost(vhost);
  if (!found || found.description !== vhostMarker(instanceId, deps.deploymentId)) return 'clean';
  if (await deps.store.getInstance(instanceId)) return 'clean';
  return underProbe(deps, rec, async () => {
    if (await deps.store.getInstance(instanceId)) return 'clean';
    deps.log.warn({ operation: rec.id, kind: rec.kind, instance_id: instanceId, vhost }, 'a late write re-created the vhost of a removed instance; deleting it');
    await deleteOurVhost(deps, vhost);
    return 'undone';
  });
}

/**
 * An update that failed put the previous plan back; a write of the target plan that landed
 * afterwards would leave a mix of two plans. The previous plan is applied again, unless the
 * instance has moved on (another operation since, a different plan, being deleted).
 */
async function reassertPlan(deps: BrokerDeps, rec: OperationRecord): Promise<Verdict> {
  const intent = rec.intent as UpdateIntent | null;
  if (!intent?.fromPlanId || !intent.toPlanId) return 'clean';
  const stillCurrent = async () => {
    const instance = await deps.store.getInstance(rec.resourceId);
    const newest = await deps.store.getOperation('instance', rec.resourceId);
    return instance?.state === 'ready' && instance.planId === intent.fromPlanId && newest?.id === rec.id;
  };
  if (!(await stillCurrent())) return 'clean';
  return underProbe(deps, rec, async () => {
    const instance = await deps.store.getInstance(rec.resourceId);
    if (instance?.state !== 'ready' || instance.planId !== intent.fromPlanId) return 'clean';
    await revertUpdate(deps, rec.resourceId, intent);
    return 'clean';
  });
}

/** Runs `check` holding the instance through a probe operation of the same kind, then drops it. */
async function underProbe(deps: BrokerDeps, rec: OperationRecord, check: () => Promise<Verdict>): Promise<Verdict> {
  let probe: DurableOperation;
  try {
    probe = await beginOperation(deps, {
      resourceType: 'instance', resourceId: rec.resourceId, instanceId: rec.instanceId, kind: rec.kind, intent: { ...(rec.intent ?? {}), probe: true },
    });
  } catch (err) {
    if (err instanceof BrokerError && err.code === 'ConcurrencyError') return 'busy';
    throw err;
  }
  try {
    return await check();
  } finally {
    await probe.discard();
  }
}
