// Provision, update, deprovision, fetch and poll of service instances. An instance is a vhost
// named after the instance id, marked as warren's by its description.
import { badRequest, concurrencyError, conflict, gone, notFound, unprocessable } from '../osbapi/errors.ts';
import type {
  DeprovisionDetails, DeprovisionResult, FetchDetails, InstanceView, LastOperation, PollDetails, ProvisionDetails,
  ProvisionResult, RequestContext, UpdateDetails, UpdateResult,
} from '../osbapi/service-broker.ts';
import type { InstanceRecord } from '../store/store.ts';
import { removeBindingUser } from './binding-user-removal.ts';
import { audit, type BrokerDeps, now, recordOperation } from './broker-deps.ts';
import { applyUserPlan, applyVhostPlan, ownsVhost, vhostMarker } from './plan-in-rabbitmq.ts';
import { checkMaintenanceInfo, requirePlan } from './plan-checks.ts';
import { toBrokerError } from './rabbit-failure.ts';
import { sameOptionalObject } from './same-json.ts';
import type { PlanRef } from './service-catalog.ts';

const lockKey = (instanceId: string) => `i:${instanceId}`;

/** A vhost of that name exists and is not warren's: never adopt or delete it. */
class ForeignVhostError extends Error {}

function dashboardUrl(deps: BrokerDeps, vhost: string): string | undefined {
  const base = deps.rabbitConfig.management_public_urls[0];
  return base ? `${base}/#/vhosts/${encodeURIComponent(vhost)}` : undefined;
}

async function isOurVhost(deps: BrokerDeps, instanceId: string, vhost: string): Promise<boolean | null> {
  const existing = await deps.rabbit.getVhost(vhost);
  if (!existing) return null;
  return ownsVhost(existing.description, instanceId, deps.deploymentId);
}

/** Creates (or finishes creating) the vhost and applies the plan. Idempotent. */
async function buildVhost(deps: BrokerDeps, instanceId: string, vhost: string, ref: PlanRef): Promise<void> {
  if ((await isOurVhost(deps, instanceId, vhost)) === false) throw new ForeignVhostError();
  const plan = ref.plan.rabbitmq;
  await deps.rabbit.putVhost(vhost, {
    description: vhostMarker(instanceId, deps.deploymentId),
    tags: ['warren'],
    ...(plan.default_queue_type ? { defaultQueueType: plan.default_queue_type } : {}),
  });
  // RabbitMQ grants a vhost's creator full permissions on it; stating them keeps that true for
  // every version and survives a retry that found the vhost already there.
  const admin = deps.rabbit.putPermissions(vhost, deps.rabbitConfig.administrator.username, { configure: '.*', write: '.*', read: '.*' });
  const [a, b] = await Promise.allSettled([admin, applyVhostPlan(deps.rabbit, vhost, plan)]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}

function sameProvision(rec: InstanceRecord, d: ProvisionDetails): boolean {
  return (
    rec.serviceId === d.serviceId &&
    rec.planId === d.planId &&
    rec.organizationGuid === d.organizationGuid &&
    rec.spaceGuid === d.spaceGuid &&
    sameOptionalObject(rec.parameters, d.parameters)
  );
}

export async function provision(deps: BrokerDeps, instanceId: string, d: ProvisionDetails, ctx: RequestContext): Promise<ProvisionResult> {
  const ref = requirePlan(deps.catalog, d.serviceId, d.planId);
  checkMaintenanceInfo(ref.plan, d.maintenanceInfo);
  return deps.locks.with(lockKey(instanceId), true, async () => {
    const existing = await deps.store.getInstance(instanceId);
    if (existing) {
      if (existing.state === 'deprovisioning') throw concurrencyError(`instance ${instanceId} is being deleted`);
      if (!sameProvision(existing, d)) throw conflict(`instance ${instanceId} exists with different attributes`);
      if (existing.state === 'ready' || existing.state === 'updating') {
        return { alreadyExists: true, dashboardUrl: existing.dashboardUrl ?? undefined };
      }
      // 'provisioning' or 'failed': an earlier attempt did not finish. Finish it now.
    } else {
      const at = now();
      const inserted = await deps.store.insertInstance({
        id: instanceId, serviceId: d.serviceId, planId: d.planId, organizationGuid: d.organizationGuid, spaceGuid: d.spaceGuid,
        parameters: d.parameters ?? null, context: d.context ?? null,
        maintenanceInfoVersion: ref.plan.maintenance_info?.version ?? null,
        vhost: instanceId, dashboardUrl: dashboardUrl(deps, instanceId) ?? null, state: 'provisioning', createdAt: at, updatedAt: at,
      });
      if (!inserted) throw concurrencyError(`instance ${instanceId} is being created by another request`);
    }
    const vhost = existing?.vhost ?? instanceId;
    try {
      await buildVhost(deps, instanceId, vhost, ref);
      await deps.store.updateInstance(instanceId, { state: 'ready', updatedAt: now() });
    } catch (err) {
      await rollbackProvision(deps, instanceId, vhost, err instanceof ForeignVhostError);
      await recordOperation(deps, 'instance', instanceId, instanceId, 'provision', 'failed', 'provisioning failed');
      if (err instanceof ForeignVhostError) {
        throw conflict(`RabbitMQ already has a vhost named "${vhost}" that this broker did not create`);
      }
      throw toBrokerError(err, 'provisioning failed');
    }
    await recordOperation(deps, 'instance', instanceId, instanceId, 'provision', 'succeeded', null);
    audit(deps, ctx, 'provisioned', { instance_id: instanceId, plan_id: d.planId, vhost });
    return { alreadyExists: false, dashboardUrl: dashboardUrl(deps, vhost) };
  });
}

/** Undoes a failed provision; if RabbitMQ cannot be cleaned now, the row stays 'failed' for the platform's DELETE. */
async function rollbackProvision(deps: BrokerDeps, instanceId: string, vhost: string, foreign: boolean): Promise<void> {
  try {
    if (!foreign) await deps.rabbit.deleteVhost(vhost);
    await deps.store.deleteInstance(instanceId);
  } catch (err) {
    deps.log.warn({ instance_id: instanceId, err: (err as Error).message }, 'rollback of failed provision incomplete; waiting for the platform to delete it');
    await deps.store.updateInstance(instanceId, { state: 'failed', updatedAt: now() }).catch(() => undefined);
  }
}

export async function update(deps: BrokerDeps, instanceId: string, d: UpdateDetails, ctx: RequestContext): Promise<UpdateResult> {
  const service = deps.catalog.service(d.serviceId);
  if (!service) throw badRequest(`service_id "${d.serviceId}" is not in the catalog`);
  return deps.locks.with(lockKey(instanceId), true, async () => {
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
    const previous = current?.plan.rabbitmq;
    await deps.store.updateInstance(instanceId, { state: 'updating', updatedAt: now() });
    const bindings = (await deps.store.listBindings(instanceId)).filter(
      (b): b is typeof b & { credentials: { password: string } } => b.state === 'ready' && typeof b.credentials?.password === 'string',
    );
    const touched: typeof bindings = [];
    try {
      const queueType = target.plan.rabbitmq.default_queue_type;
      if (queueType && queueType !== previous?.default_queue_type) {
        // The vhost's default queue type lives in its metadata (RabbitMQ 3.11+): PUT it again.
        await deps.rabbit.putVhost(existing.vhost, { description: vhostMarker(instanceId, deps.deploymentId), tags: ['warren'], defaultQueueType: queueType });
      }
      await applyVhostPlan(deps.rabbit, existing.vhost, target.plan.rabbitmq, previous);
      // Existing bindings follow the new plan too (permissions, topic permissions, tags, user limits).
      for (const b of bindings) {
        touched.push(b);
        await applyUserPlan(deps.rabbit, existing.vhost, { username: b.username, password: b.credentials.password, deploymentId: deps.deploymentId }, target.plan.rabbitmq, previous);
      }
    } catch (err) {
      // Put back what was changed, as far as RabbitMQ lets us: a failed update leaves the old plan.
      if (previous) {
        await applyVhostPlan(deps.rabbit, existing.vhost, previous, target.plan.rabbitmq).catch(() => undefined);
        for (const b of touched) {
          await applyUserPlan(deps.rabbit, existing.vhost, { username: b.username, password: b.credentials.password, deploymentId: deps.deploymentId }, previous, target.plan.rabbitmq).catch(() => undefined);
        }
      }
      await deps.store.updateInstance(instanceId, { state: 'ready', updatedAt: now() }).catch(() => undefined);
      await recordOperation(deps, 'instance', instanceId, instanceId, 'update', 'failed', 'update failed; the previous plan was restored where possible, repeat the update');
      throw toBrokerError(err, 'update failed');
    }
    // Bindings follow their instance's plan, so a platform's repeat bind (new plan id) still matches.
    for (const b of bindings) {
      if (b.planId !== target.plan.id) await deps.store.updateBinding(b.id, { planId: target.plan.id, updatedAt: now() });
    }
    await deps.store.updateInstance(instanceId, {
      state: 'ready',
      planId: target.plan.id,
      parameters: d.parameters ?? existing.parameters,
      context: d.context ? { ...(existing.context ?? {}), ...d.context } : existing.context,
      maintenanceInfoVersion: d.maintenanceInfo?.version ?? target.plan.maintenance_info?.version ?? existing.maintenanceInfoVersion,
      updatedAt: now(),
    });
    await recordOperation(deps, 'instance', instanceId, instanceId, 'update', 'succeeded', null);
    audit(deps, ctx, 'updated', { instance_id: instanceId, plan_id: target.plan.id, previous_plan_id: existing.planId });
    return { dashboardUrl: existing.dashboardUrl ?? undefined };
  });
}

export async function deprovision(deps: BrokerDeps, instanceId: string, _d: DeprovisionDetails, ctx: RequestContext): Promise<DeprovisionResult> {
  return deps.locks.with(lockKey(instanceId), true, async () => {
    const existing = await deps.store.getInstance(instanceId);
    if (!existing) throw gone();
    const finished = existing.state === 'ready' || existing.state === 'updating' || existing.state === 'deprovisioning';
    await deps.store.updateInstance(instanceId, { state: 'deprovisioning', updatedAt: now() });
    try {
      // Every binding's user goes first (with its connections), then the vhost. Each batch is
      // awaited in full, so nothing of this delete is still running once it has answered.
      const bindings = await deps.store.listBindings(instanceId);
      for (let i = 0; i < bindings.length; i += 8) {
        const batch = await Promise.allSettled(
          bindings.slice(i, i + 8).map(async (b) => {
            if (b.state !== 'deleting') await deps.store.updateBinding(b.id, { state: 'deleting', updatedAt: now() });
            await removeBindingUser(deps, b.username);
            await deps.store.deleteBinding(b.id);
            deps.recentlyUnbound.add(b.id, instanceId);
          }),
        );
        const failed = batch.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      // A half-provisioned instance may have met a vhost that is not ours: leave that one alone.
      if (finished || (await isOurVhost(deps, instanceId, existing.vhost)) === true) await deps.rabbit.deleteVhost(existing.vhost);
      await deps.store.deleteInstance(instanceId);
    } catch (err) {
      // The instance is still there (what is left of it): back to its state, so a retried delete
      // or anything else can proceed; the bindings already removed stay removed.
      await deps.store.updateInstance(instanceId, { state: existing.state, updatedAt: now() }).catch(() => undefined);
      await recordOperation(deps, 'instance', instanceId, instanceId, 'deprovision', 'failed', 'deprovisioning failed; repeat the delete');
      throw toBrokerError(err, 'deprovisioning failed');
    }
    await recordOperation(deps, 'instance', instanceId, instanceId, 'deprovision', 'succeeded', null);
    audit(deps, ctx, 'deprovisioned', { instance_id: instanceId, vhost: existing.vhost });
    return {};
  });
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
  if (op) return { state: op.state, ...(op.description ? { description: op.description } : {}) };
  const rec = await deps.store.getInstance(instanceId);
  if (!rec) throw notFound(`instance ${instanceId} does not exist`);
  return { state: rec.state === 'ready' ? 'succeeded' : rec.state === 'failed' ? 'failed' : 'in progress' };
}
