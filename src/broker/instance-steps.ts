// The RabbitMQ and store steps of instance operations, each idempotent, so that the request that
// starts an operation and the recovery job that finishes a dead replica's run the same code.
import { conflict } from '../contract/broker-errors.ts';
import type { InstanceRecord, InstanceState } from '../store/store.ts';
import { lateLookAt, removeBindingUser } from './binding-user-removal.ts';
import { type BrokerDeps, now } from './broker-deps.ts';
import { applyUserPlan, applyVhostPlan, ownsVhost, vhostMarker } from './plan-in-rabbitmq.ts';
import type { PlanRef } from './service-catalog.ts';

/** What an update is to achieve, recorded before RabbitMQ is touched. */
export interface UpdateIntent {
  fromPlanId: string;
  toPlanId: string;
  parameters: Record<string, unknown> | null;
  context: Record<string, unknown> | null;
  maintenanceInfoVersion: string | null;
  async?: boolean;
  /**
   * The binding users the update rewrites (its instance's ready bindings, which no binding
   * operation can change meanwhile): what its look for late writes checks (in-doubt-checks.ts).
   */
  users?: Array<{ bindingId: string; username: string }>;
}

/** The users an update of this instance writes, for its intent. */
export async function usersOf(deps: BrokerDeps, instanceId: string): Promise<NonNullable<UpdateIntent['users']>> {
  return (await readyBindings(deps, instanceId)).map((b) => ({ bindingId: b.id, username: b.username }));
}

export function dashboardUrl(deps: BrokerDeps, vhost: string): string | undefined {
  const base = deps.rabbitSettings.managementPublicUrls[0];
  return base ? `${base}/#/vhosts/${encodeURIComponent(vhost)}` : undefined;
}

/** true: ours; false: a vhost of that name exists and is not ours (never adopt or delete it); null: none. */
export async function isOurVhost(deps: BrokerDeps, instanceId: string, vhost: string): Promise<boolean | null> {
  const existing = await deps.rabbit.getVhost(vhost);
  if (!existing) return null;
  return ownsVhost(existing.description, instanceId, deps.deploymentId);
}

/** Creates (or finishes creating) the vhost, applies the plan, and marks the instance ready. */
export async function buildInstance(deps: BrokerDeps, instanceId: string, vhost: string, ref: PlanRef): Promise<void> {
  if ((await isOurVhost(deps, instanceId, vhost)) === false) {
    throw conflict(`RabbitMQ already has a vhost named "${vhost}" that this broker did not create`);
  }
  const plan = ref.plan.rabbitmq;
  await deps.rabbit.putVhost(vhost, {
    description: vhostMarker(instanceId, deps.deploymentId),
    tags: ['warren'],
    ...(plan.default_queue_type ? { defaultQueueType: plan.default_queue_type } : {}),
  });
  await deps.vhostProtection?.protect(vhost);
  // RabbitMQ grants a vhost's creator full permissions on it; stating them keeps that true for
  // every version and survives a retry that found the vhost already there.
  const admin = deps.rabbit.putPermissions(vhost, deps.rabbitSettings.administrator.username, { configure: '.*', write: '.*', read: '.*' });
  const [a, b] = await Promise.allSettled([admin, applyVhostPlan(deps.rabbit, vhost, plan)]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  await deps.store.updateInstance(instanceId, { state: 'ready', updatedAt: now() });
}

/** Lifts warren's own deletion protection (RabbitMQ 4.1+), then deletes. */
export async function deleteOurVhost(deps: BrokerDeps, vhost: string): Promise<void> {
  await deps.vhostProtection?.release(vhost);
  await deps.rabbit.deleteVhost(vhost);
}

/** Undoes a provision: the vhost (only if ours) and the row. */
export async function unbuildInstance(deps: BrokerDeps, instanceId: string, vhost: string): Promise<void> {
  if ((await isOurVhost(deps, instanceId, vhost)) === true) await deleteOurVhost(deps, vhost);
  await deps.store.deleteInstance(instanceId);
}

/** Applies the intent's target plan to the vhost and every ready binding, then records it. */
export async function applyUpdate(deps: BrokerDeps, instanceId: string, intent: UpdateIntent): Promise<void> {
  const instance = await deps.store.getInstance(instanceId);
  if (!instance) return;
  const target = deps.catalog.plan(instance.serviceId, intent.toPlanId);
  if (!target) throw new Error(`plan ${intent.toPlanId} is no longer in the catalog`);
  const previous = deps.catalog.plan(instance.serviceId, intent.fromPlanId)?.plan.rabbitmq;
  const queueType = target.plan.rabbitmq.default_queue_type;
  if (queueType && queueType !== previous?.default_queue_type) {
    // The vhost's default queue type lives in its metadata (RabbitMQ 3.11+): PUT it again.
    await deps.rabbit.putVhost(instance.vhost, { description: vhostMarker(instanceId, deps.deploymentId), tags: ['warren'], defaultQueueType: queueType });
  }
  await applyVhostPlan(deps.rabbit, instance.vhost, target.plan.rabbitmq, previous);
  const bindings = await readyBindings(deps, instanceId);
  // Existing bindings follow the new plan too (permissions, topic permissions, tags, user limits).
  for (const b of bindings) {
    await applyUserPlan(deps.rabbit, instance.vhost, { username: b.username, password: b.password, deploymentId: deps.deploymentId }, target.plan.rabbitmq, previous);
  }
  // Bindings follow their instance's plan, so a platform's repeat bind (new plan id) still matches.
  for (const b of bindings) {
    if (b.planId !== target.plan.id) await deps.store.updateBinding(b.id, { planId: target.plan.id, updatedAt: now() });
  }
  await deps.store.updateInstance(instanceId, {
    state: 'ready',
    planId: target.plan.id,
    parameters: intent.parameters,
    context: intent.context,
    maintenanceInfoVersion: intent.maintenanceInfoVersion,
    updatedAt: now(),
  });
}

/** Puts the previous plan back over whatever part of the target plan was applied. */
export async function revertUpdate(deps: BrokerDeps, instanceId: string, intent: UpdateIntent): Promise<void> {
  const instance = await deps.store.getInstance(instanceId);
  if (!instance) return;
  const previous = deps.catalog.plan(instance.serviceId, intent.fromPlanId);
  const target = deps.catalog.plan(instance.serviceId, intent.toPlanId)?.plan.rabbitmq;
  if (previous) {
    await applyVhostPlan(deps.rabbit, instance.vhost, previous.plan.rabbitmq, target);
    for (const b of await readyBindings(deps, instanceId)) {
      await applyUserPlan(deps.rabbit, instance.vhost, { username: b.username, password: b.password, deploymentId: deps.deploymentId }, previous.plan.rabbitmq, target);
    }
  }
  await deps.store.updateInstance(instanceId, { state: 'ready', updatedAt: now() });
}

async function readyBindings(deps: BrokerDeps, instanceId: string) {
  const out: Array<{ id: string; username: string; password: string; planId: string }> = [];
  for (const b of await deps.store.listBindings(instanceId)) {
    const password = b.credentials?.['password'];
    if (b.state === 'ready' && typeof password === 'string') out.push({ id: b.id, username: b.username, password, planId: b.planId });
  }
  return out;
}

/**
 * Deletes every binding's user (with its connections), then the vhost, then the row. Each batch
 * is awaited in full, so nothing of this delete is still running once it has answered.
 * `previousState` says whether the vhost is known to be ours without asking.
 */
export async function teardownInstance(deps: BrokerDeps, instance: InstanceRecord, previousState: InstanceState): Promise<void> {
  const bindings = await deps.store.listBindings(instance.id);
  for (let i = 0; i < bindings.length; i += 8) {
    const batch = await Promise.allSettled(
      bindings.slice(i, i + 8).map(async (b) => {
        if (b.state !== 'deleting') await deps.store.updateBinding(b.id, { state: 'deleting', updatedAt: now() });
        await removeBindingUser(deps, b.username);
        await deps.store.deleteBinding(b.id);
        const at = now();
        // So a binding's last_operation answers 'succeeded' after its instance is gone too.
        await deps.store.insertOperation({
          id: `${instance.id}:${b.id}:deprovision`, resourceType: 'binding', resourceId: b.id, instanceId: instance.id, kind: 'unbind',
          state: 'succeeded', description: 'binding deleted with its instance', owner: null, leaseUntil: null,
          intent: { username: b.username }, followupAt: lateLookAt(), createdAt: at, updatedAt: at,
        }).catch(() => undefined);
      }),
    );
    const failed = batch.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  // A half-provisioned instance may have met a vhost that is not ours: leave that one alone.
  const finished = previousState === 'ready' || previousState === 'updating' || previousState === 'deprovisioning';
  if (finished || (await isOurVhost(deps, instance.id, instance.vhost)) === true) await deleteOurVhost(deps, instance.vhost);
  await deps.store.deleteInstance(instance.id);
}
