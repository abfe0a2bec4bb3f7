// Bind, unbind, fetch and poll of service bindings. A binding is a RabbitMQ user of its own with
// the plan's permissions on the instance's vhost only.
import { badRequest, concurrencyError, conflict, gone, notFound } from '../osbapi/errors.ts';
import type {
  BindDetails, BindResult, BindingView, DeprovisionDetails, FetchDetails, LastOperation, PollDetails, RequestContext, UnbindResult,
} from '../osbapi/service-broker.ts';
import type { BindingRecord, InstanceRecord } from '../store/store.ts';
import { bindingCredentials } from './binding-credentials.ts';
import { removeBindingUser } from './binding-user-removal.ts';
import { audit, type BrokerDeps, now } from './broker-deps.ts';
import { newPassword, newUsername } from './generated-secrets.ts';
import { applyUserPlan } from './plan-in-rabbitmq.ts';
import { requirePlan } from './plan-checks.ts';
import { toBrokerError } from './rabbit-failure.ts';
import { sameOptionalObject } from './same-json.ts';

const instanceLock = (id: string) => `i:${id}`;
const bindingLock = (id: string) => `b:${id}`;

function sameBind(rec: BindingRecord, d: BindDetails, instanceId: string): boolean {
  return (
    rec.instanceId === instanceId &&
    rec.serviceId === d.serviceId &&
    rec.planId === d.planId &&
    (rec.appGuid ?? undefined) === (d.appGuid ?? undefined) &&
    (rec.predecessorBindingId ?? undefined) === (d.predecessorBindingId ?? undefined) &&
    sameOptionalObject(rec.bindResource, d.bindResource) &&
    // A rotation without parameters inherited its predecessor's: that is not a difference.
    ((d.predecessorBindingId && d.parameters === undefined) || sameOptionalObject(rec.parameters, d.parameters))
  );
}

async function liveInstance(deps: BrokerDeps, instanceId: string): Promise<InstanceRecord> {
  const instance = await deps.store.getInstance(instanceId);
  if (!instance || instance.state === 'provisioning' || instance.state === 'failed') throw notFound(`instance ${instanceId} does not exist`);
  if (instance.state === 'deprovisioning') throw concurrencyError(`instance ${instanceId} is being deleted`);
  return instance;
}

export async function bind(deps: BrokerDeps, instanceId: string, bindingId: string, d: BindDetails, ctx: RequestContext): Promise<BindResult> {
  const ref = requirePlan(deps.catalog, d.serviceId, d.planId);
  if (!deps.catalog.bindable(ref)) throw badRequest(`plan "${ref.plan.name}" is not bindable`);
  return deps.locks.with(instanceLock(instanceId), false, () =>
    deps.locks.with(bindingLock(bindingId), true, async () => {
      const instance = await liveInstance(deps, instanceId);
      if (instance.planId !== d.planId) throw badRequest(`plan_id "${d.planId}" is not the plan of instance ${instanceId}`);
      const existing = await deps.store.getBinding(bindingId);
      if (existing) {
        if (!sameBind(existing, d, instanceId)) throw conflict(`binding ${bindingId} exists with different attributes`);
        if (existing.state === 'ready' && existing.credentials) return { alreadyExists: true, credentials: existing.credentials };
        if (existing.state === 'deleting') throw concurrencyError(`binding ${bindingId} is being deleted`);
        // 'creating' or 'failed': an earlier attempt did not finish; its user is ours to redo.
      }
      let parameters = d.parameters;
      if (d.predecessorBindingId) {
        if (!ref.plan.binding_rotatable) throw badRequest(`plan "${ref.plan.name}" does not support binding rotation`);
        const predecessor = await deps.store.getBinding(d.predecessorBindingId);
        if (!predecessor || predecessor.instanceId !== instanceId || predecessor.state !== 'ready') {
          throw badRequest(`predecessor binding ${d.predecessorBindingId} does not exist in instance ${instanceId}`);
        }
        parameters ??= predecessor.parameters ?? undefined;
      }
      const username = existing?.username ?? newUsername(bindingId);
      // A redo keeps the stored password: the user is ours, and the store already holds it sealed.
      const stored = existing?.credentials?.password;
      const password = typeof stored === 'string' ? stored : newPassword();
      const credentials = bindingCredentials({
        username, password, vhost: instance.vhost, hosts: deps.rabbitConfig.hosts, managementUrls: deps.rabbitConfig.management_public_urls,
        ports: deps.protocols.current(), preferTls: deps.rabbitConfig.prefer_tls,
      });
      // The row (credentials sealed once) exists before the user does, so a crash or a failure
      // leaves a record that the platform's DELETE can clean up.
      if (!existing) {
        const at = now();
        const inserted = await deps.store.insertBinding({
          id: bindingId, instanceId, serviceId: d.serviceId, planId: d.planId, appGuid: d.appGuid ?? null,
          bindResource: d.bindResource ?? null, parameters: parameters ?? null, context: d.context ?? null,
          predecessorBindingId: d.predecessorBindingId ?? null, username, credentials, state: 'creating', createdAt: at, updatedAt: at,
        });
        if (!inserted) throw concurrencyError(`binding ${bindingId} is being created by another request`);
      } else if (typeof stored !== 'string') {
        await deps.store.updateBinding(bindingId, { credentials, updatedAt: now() });
      }
      try {
        await applyUserPlan(deps.rabbit, instance.vhost, { username, password, deploymentId: deps.deploymentId }, ref.plan.rabbitmq);
        await deps.store.updateBinding(bindingId, { state: 'ready', updatedAt: now() });
      } catch (err) {
        await rollbackBind(deps, bindingId, username);
        throw toBrokerError(err, 'binding failed');
      }
      deps.recentlyUnbound.forget(bindingId);
      audit(deps, ctx, 'bound', { instance_id: instanceId, binding_id: bindingId, username, app_guid: d.appGuid });
      return { alreadyExists: false, credentials };
    }),
  );
}

async function rollbackBind(deps: BrokerDeps, bindingId: string, username: string): Promise<void> {
  try {
    await deps.rabbit.deleteUser(username);
    await deps.store.deleteBinding(bindingId);
  } catch (err) {
    deps.log.warn({ binding_id: bindingId, err: (err as Error).message }, 'rollback of failed bind incomplete; waiting for the platform to unbind');
    await deps.store.updateBinding(bindingId, { state: 'failed', updatedAt: now() }).catch(() => undefined);
  }
}

export async function unbind(deps: BrokerDeps, instanceId: string, bindingId: string, _d: DeprovisionDetails, ctx: RequestContext): Promise<UnbindResult> {
  return deps.locks.with(instanceLock(instanceId), false, () =>
    deps.locks.with(bindingLock(bindingId), true, async () => {
      const existing = await deps.store.getBinding(bindingId, { withCredentials: false });
      if (!existing || existing.instanceId !== instanceId) throw gone();
      try {
        // From here the credentials are revoked: GET answers 404, a repeat bind waits for the
        // delete, an update leaves this user alone, and a failed attempt is finished by a retry.
        if (existing.state !== 'deleting') await deps.store.updateBinding(bindingId, { state: 'deleting', updatedAt: now() });
        await removeBindingUser(deps, existing.username);
        await deps.store.deleteBinding(bindingId);
      } catch (err) {
        throw toBrokerError(err, 'unbinding failed');
      }
      deps.recentlyUnbound.add(bindingId, instanceId);
      audit(deps, ctx, 'unbound', { instance_id: instanceId, binding_id: bindingId, username: existing.username });
      return {};
    }),
  );
}

export async function getBinding(deps: BrokerDeps, instanceId: string, bindingId: string, _d: FetchDetails): Promise<BindingView> {
  const rec = await deps.store.getBinding(bindingId);
  if (!rec || rec.instanceId !== instanceId || rec.state !== 'ready' || !rec.credentials) {
    throw notFound(`binding ${bindingId} does not exist in instance ${instanceId}`);
  }
  return { credentials: rec.credentials, parameters: rec.parameters ?? {} };
}

/**
 * Bindings are created and deleted synchronously, so their state is the answer; a binding deleted
 * recently answers 'succeeded' (platforms that poll after a delete treat 410 as an error).
 */
export async function lastBindingOperation(deps: BrokerDeps, instanceId: string, bindingId: string, _d: PollDetails): Promise<LastOperation> {
  const rec = await deps.store.getBinding(bindingId, { withCredentials: false });
  if (rec && rec.instanceId === instanceId) {
    return { state: rec.state === 'ready' ? 'succeeded' : rec.state === 'failed' ? 'failed' : 'in progress' };
  }
  if (deps.recentlyUnbound.has(bindingId, instanceId)) return { state: 'succeeded', description: 'binding deleted' };
  throw notFound(`binding ${bindingId} does not exist in instance ${instanceId}`);
}
