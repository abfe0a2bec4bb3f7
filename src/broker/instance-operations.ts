// Provision, update, deprovision, fetch and poll of service instances. An instance is a vhost
// named after the instance id, marked as warren's by its description. Every change is a durable
// operation (durable-operation.ts): recorded before RabbitMQ is touched and serialized with
// every other operation on the instance, in whichever replica it arrives.
import { badRequest, concurrencyError, conflict, gone, notFound, unprocessable } from '../contract/broker-errors.ts';
import type {
  DeprovisionDetails, DeprovisionResult, FetchDetails, InstanceView, LastOperation, PollDetails, ProvisionDetails,
  ProvisionResult, RequestContext, UpdateDetails, UpdateResult,
} from '../contract/service-broker.ts';
import type { InstanceRecord } from '../store/store.ts';
import { audit, type BrokerDeps, now } from './broker-deps.ts';
import { beginOperation, type DurableOperation } from './durable-operation.ts';
import {
  applyUpdate, buildInstance, dashboardUrl, revertUpdate, teardownInstance, unbuildInstance, usersOf, type UpdateIntent,
} from './instance-steps.ts';
import { inDoubtLookAt } from './in-doubt-checks.ts';
import { checkMaintenanceInfo, requirePlan } from './plan-checks.ts';
import { assertPlanFitsCluster } from './policy-compatibility.ts';
import { runOperation } from './run-operation.ts';
import { sameOptionalObject } from './same-json.ts';

function sameProvision(rec: InstanceRecord, d: ProvisionDetails): boolean {
  return (
    rec.serviceId === d.serviceId &&
    rec.planId === d.planId &&
    rec.organizationGuid === d.organizationGuid &&
    rec.spaceGuid === d.spaceGuid &&
    sameOptionalObject(rec.parameters, d.parameters)
  );
}

/** The answer to a provision of an id that exists, or undefined when the work is still to do. */
async function repeatedProvision(deps: BrokerDeps, rec: InstanceRecord, d: ProvisionDetails): Promise<ProvisionResult | undefined> {
  if (rec.state === 'deprovisioning') throw concurrencyError(`instance ${rec.id} is being deleted`);
  if (!sameProvision(rec, d)) throw conflict(`instance ${rec.id} exists with different attributes`);
  if (rec.state === 'ready' || rec.state === 'updating') return { alreadyExists: true, dashboardUrl: rec.dashboardUrl ?? undefined };
  if (rec.state === 'provisioning') {
    // An asynchronous provision still running: the same 202 again (OSBAPI), on any replica.
    const op = await deps.store.getOperation('instance', rec.id);
    if (op?.state === 'in progress' && op.kind === 'provision' && op.intent?.['async'] === true) {
      return { alreadyExists: false, operation: op.id, dashboardUrl: rec.dashboardUrl ?? undefined };
    }
  }
  return undefined; // 'provisioning' or 'failed': an earlier attempt did not finish; finish it now.
}

/** Runs `check` under the operation; an early answer (or refusal) leaves no operation behind. */
async function underOperation<T>(op: DurableOperation, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    await op.discard().catch(() => undefined);
    throw err;
  }
}

export async function provision(deps: BrokerDeps, instanceId: string, d: ProvisionDetails, ctx: RequestContext): Promise<ProvisionResult> {
  const ref = requirePlan(deps.catalog, d.serviceId, d.planId);
  checkMaintenanceInfo(ref.plan, d.maintenanceInfo);
  assertPlanFitsCluster(ref.plan, deps.protocols.facts()?.version);
  // An identical repeat of a finished provision is answered without taking the instance.
  const seen = await deps.store.getInstance(instanceId);
  if (seen) {
    const answer = await repeatedProvision(deps, seen, d);
    if (answer) return answer;
  }
  const op = await beginOperation(deps, { resourceType: 'instance', resourceId: instanceId, instanceId, kind: 'provision', intent: { planId: d.planId } });
  const start = await underOperation(op, async (): Promise<{ vhost: string; answer?: ProvisionResult }> => {
    const existing = await deps.store.getInstance(instanceId);
    if (existing) {
      const answer = await repeatedProvision(deps, existing, d);
      if (answer) {
        await op.discard();
        return { vhost: existing.vhost, answer };
      }
      return { vhost: existing.vhost };
    }
    // A deletion of this id's vhost that was sent and never answered may still land, and would
    // take the new vhost with it: the platform retries once the look for it has been made.
    if (await deps.store.pendingDoubt(instanceId)) {
      throw concurrencyError(`an earlier deletion of instance ${instanceId} may still reach RabbitMQ; try again in a few seconds`);
    }
    const at = now();
    await deps.store.insertInstance({
      id: instanceId, serviceId: d.serviceId, planId: d.planId, organizationGuid: d.organizationGuid, spaceGuid: d.spaceGuid,
      parameters: d.parameters ?? null, context: d.context ?? null,
      maintenanceInfoVersion: ref.plan.maintenance_info?.version ?? null,
      vhost: instanceId, dashboardUrl: dashboardUrl(deps, instanceId) ?? null, state: 'provisioning', createdAt: at, updatedAt: at,
    });
    return { vhost: instanceId };
  });
  if (start.answer) return start.answer;
  const { vhost } = start;
  const outcome = await runOperation(deps, op, ctx, {
    failure: 'provisioning failed',
    forward: () => buildInstance(deps, instanceId, vhost, ref),
    rollback: () => unbuildInstance(deps, instanceId, vhost),
    followupAfterRollback: () => inDoubtLookAt(deps),
  });
  if (outcome.async) return { alreadyExists: false, operation: op.id, dashboardUrl: dashboardUrl(deps, vhost) };
  audit(deps, ctx, 'provisioned', { instance_id: instanceId, plan_id: d.planId, vhost });
  return { alreadyExists: false, dashboardUrl: dashboardUrl(deps, vhost) };
}

export async function update(deps: BrokerDeps, instanceId: string, d: UpdateDetails, ctx: RequestContext): Promise<UpdateResult> {
  const service = deps.catalog.service(d.serviceId);
  if (!service) throw badRequest(`service_id "${d.serviceId}" is not in the catalog`);
  const op = await beginOperation(deps, { resourceType: 'instance', resourceId: instanceId, instanceId, kind: 'update', intent: null });
  const { existing, intent } = await underOperation(op, async () => {
    const existing = await deps.store.getInstance(instanceId);
    if (!existing || existing.state === 'provisioning' || existing.state === 'failed') throw notFound(`instance ${instanceId} does not exist`);
    if (existing.state === 'deprovisioning') throw concurrencyError(`instance ${instanceId} is being deleted`);
    if (existing.serviceId !== d.serviceId) throw badRequest(`instance ${instanceId} belongs to service "${existing.serviceId}"`);
    const target = requirePlan(deps.catalog, d.serviceId, d.planId ?? existing.planId);
    const current = deps.catalog.plan(existing.serviceId, existing.planId);
    if (target.plan.id !== existing.planId && current && !deps.catalog.planUpdateable(current)) {
      throw unprocessable('PlanChangeNotSupported', `plan "${current.plan.name}" cannot be changed to another plan`);
    }
    checkMaintenanceInfo(target.plan, d.maintenanceInfo);
    assertPlanFitsCluster(target.plan, deps.protocols.facts()?.version);
    const intent: UpdateIntent = {
      fromPlanId: existing.planId,
      toPlanId: target.plan.id,
      parameters: d.parameters ?? existing.parameters,
      context: d.context ? { ...(existing.context ?? {}), ...d.context } : existing.context,
      maintenanceInfoVersion: d.maintenanceInfo?.version ?? target.plan.maintenance_info?.version ?? existing.maintenanceInfoVersion,
      users: await usersOf(deps, instanceId),
    };
    await op.setIntent({ ...intent });
    await deps.store.updateInstance(instanceId, { state: 'updating', updatedAt: now() });
    return { existing, intent };
  });
  const outcome = await runOperation(deps, op, ctx, {
    failure: 'update failed; the previous plan was restored, repeat the update',
    forward: () => applyUpdate(deps, instanceId, intent),
    // A rewrite of a binding's user that lands after that binding's unbind would bring it back.
    followup: (writesInDoubt) => (writesInDoubt ? { at: inDoubtLookAt(deps) } : null),
    rollback: () => revertUpdate(deps, instanceId, intent),
    followupAfterRollback: () => inDoubtLookAt(deps),
  });
  if (outcome.async) return { dashboardUrl: existing.dashboardUrl ?? undefined, operation: op.id };
  audit(deps, ctx, 'updated', { instance_id: instanceId, plan_id: intent.toPlanId, previous_plan_id: existing.planId });
  return { dashboardUrl: existing.dashboardUrl ?? undefined };
}

export async function deprovision(deps: BrokerDeps, instanceId: string, _d: DeprovisionDetails, ctx: RequestContext): Promise<DeprovisionResult> {
  if (!(await deps.store.getInstance(instanceId))) throw gone();
  const op = await beginOperation(deps, { resourceType: 'instance', resourceId: instanceId, instanceId, kind: 'deprovision', intent: null });
  const existing = await underOperation(op, async () => {
    const existing = await deps.store.getInstance(instanceId);
    if (!existing) throw gone();
    await op.setIntent({ previousState: existing.state });
    await deps.store.updateInstance(instanceId, { state: 'deprovisioning', updatedAt: now() });
    return existing;
  });
  const outcome = await runOperation(deps, op, ctx, {
    failure: 'deprovisioning failed; repeat the delete',
    forward: () => teardownInstance(deps, existing, existing.state),
    // The instance is still there (what is left of it): back to its state, so a retried delete or
    // anything else can proceed; the bindings already removed stay removed.
    restore: () => deps.store.updateInstance(instanceId, { state: existing.state, updatedAt: now() }),
    followup: () => ({ at: inDoubtLookAt(deps) }),
  });
  if (outcome.async) return { operation: op.id };
  audit(deps, ctx, 'deprovisioned', { instance_id: instanceId, vhost: existing.vhost });
  return {};
}

export async function getInstance(deps: BrokerDeps, instanceId: string, _d: FetchDetails): Promise<InstanceView> {
  const rec = await deps.store.getInstance(instanceId);
  if (!rec || rec.state === 'provisioning' || rec.state === 'failed') throw notFound(`instance ${instanceId} does not exist`);
  return {
    serviceId: rec.serviceId,
    planId: rec.planId,
    dashboardUrl: rec.dashboardUrl ?? undefined,
    parameters: rec.parameters ?? {},
    ...(rec.maintenanceInfoVersion ? { maintenanceInfo: { version: rec.maintenanceInfoVersion } } : {}),
  };
}

export async function lastOperation(deps: BrokerDeps, instanceId: string, d: PollDetails): Promise<LastOperation> {
  const op =
    (d.operation ? await deps.store.getOperation('instance', instanceId, d.operation) : undefined) ??
    (await deps.store.getOperation('instance', instanceId));
  if (op) {
    return {
      state: op.state,
      ...(op.description ? { description: op.description } : {}),
      ...(op.state === 'in progress' ? { retryAfterSeconds: deps.coordination.pollAfterSeconds } : {}),
    };
  }
  const rec = await deps.store.getInstance(instanceId);
  if (!rec) throw notFound(`instance ${instanceId} does not exist`);
  return { state: rec.state === 'ready' ? 'succeeded' : rec.state === 'failed' ? 'failed' : 'in progress' };
}
